"""The two consent questions, each with a wording version.

The version goes into the bot message's metadata (Rasa stores it with the message in the
tracker store; channels ignore it), so the transcript shows exactly what a person agreed
to and under which version of the wording. The consultation request row records the
contact consent's version and time too.

Change a wording => give it a new version (tests/test_consent.py holds a fingerprint of
each version's template and fails when the text changes under an old version). Keep the
old versions listed: staff read old conversations against them.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, Iterable, Optional

METADATA_KEY = "consent_wording"

SCREENING_CONSENT_VERSION = "screening-consent-v1"
SCREENING_CONSENT_TEMPLATE = (
    "I can ask you some questions to see whether injections for jaw pain might be worth "
    "discussing with a practitioner at {clinic_name}. This is a screening, not a "
    "diagnosis. If you need urgent help, call {emergency_number}.\n\n"
    "Is it okay if I ask about your health, and keep your answers for the clinic's "
    "staff to review?")

CONTACT_CONSENT_VERSION = "contact-consent-v1"
CONTACT_CONSENT_TEMPLATE = (
    "May {clinic_name} contact you at {contact} to arrange a consultation? "
    "Your details are used only for this.")

# Every wording ever shown, by version (what the portal explains; never remove one).
WORDINGS: Dict[str, str] = {
    SCREENING_CONSENT_VERSION: SCREENING_CONSENT_TEMPLATE,
    CONTACT_CONSENT_VERSION: CONTACT_CONSENT_TEMPLATE,
}
# Which slot each consent question fills.
SLOT_OF_PREFIX = {"screening-consent": "consent_given", "contact-consent": "contact_consent"}


def fingerprint(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def screening_consent_text(clinic_name: str, emergency_number: str) -> str:
    return SCREENING_CONSENT_TEMPLATE.format(clinic_name=clinic_name, emergency_number=emergency_number)


def contact_consent_text(clinic_name: str, contact: Any) -> str:
    return CONTACT_CONSENT_TEMPLATE.format(clinic_name=clinic_name, contact=contact)


def slot_for_version(version: Optional[str]) -> Optional[str]:
    """consent_given / contact_consent for a wording version, None for anything else."""
    for prefix, slot in SLOT_OF_PREFIX.items():
        if version and version.startswith(prefix + "-"):
            return slot
    return None


def wording_shown(events: Iterable[Dict[str, Any]], slot: str) -> Optional[str]:
    """The version of the latest question for `slot` among tracker events (dicts)."""
    shown = None
    for event in events:
        if event.get("event") == "bot":
            version = (event.get("metadata") or {}).get(METADATA_KEY)
            if slot_for_version(version) == slot:
                shown = version
    return shown


def answered_at(events: Iterable[Dict[str, Any]], slot: str, value: Any = True) -> Optional[float]:
    """When the slot was last set to value (Unix seconds), from tracker events (dicts)."""
    at = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value") == value:
            at = event.get("timestamp")
    return at
