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
from typing import Any, Dict

# The versions and the lookups on recorded events are in the Rasa-free core, which the
# staff portal reads too; re-exported here so `consent.X` keeps working for the actions.
from clinical.consent import (CONTACT_CONSENT_VERSION, METADATA_KEY, SCREENING_CONSENT_VERSION,  # noqa: F401
                              SLOT_OF_PREFIX, answered_at, slot_for_version, wording_shown)

SCREENING_CONSENT_TEMPLATE = (
    "I can ask you some questions to see whether injections for jaw pain might be worth "
    "discussing with a practitioner at {clinic_name}. This is a screening, not a "
    "diagnosis. If you need urgent help, call {emergency_number}.\n\n"
    "Is it okay if I ask about your health, and keep your answers for the clinic's "
    "staff to review?")

CONTACT_CONSENT_TEMPLATE = (
    "May {clinic_name} contact you at {contact} to arrange a consultation? "
    "Your details are used only for this.")

# Every wording ever shown, by version (what the portal explains; never remove one).
WORDINGS: Dict[str, str] = {
    SCREENING_CONSENT_VERSION: SCREENING_CONSENT_TEMPLATE,
    CONTACT_CONSENT_VERSION: CONTACT_CONSENT_TEMPLATE,
}


def fingerprint(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def screening_consent_text(clinic_name: str, emergency_number: str) -> str:
    return SCREENING_CONSENT_TEMPLATE.format(clinic_name=clinic_name, emergency_number=emergency_number)


def contact_consent_text(clinic_name: str, contact: Any) -> str:
    return CONTACT_CONSENT_TEMPLATE.format(clinic_name=clinic_name, contact=contact)
