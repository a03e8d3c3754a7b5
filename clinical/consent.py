"""Consent wording versions and where they are recorded: what both the action server and
the staff portal need, without the wordings themselves.

The version of a consent question goes into the bot message's metadata under
METADATA_KEY (Rasa stores it with the message in the tracker store; channels ignore it),
so the transcript shows exactly what a person agreed to and under which version of the
wording. The consultation request row records the contact consent's version and time too
(clinical/consultation_store.py).

The texts, and the fingerprint test that pins each version to its text, are with the
assistant's wording (actions/consent.py, tests/test_consent.py): change a wording => give
it a new version here. Keep the old versions: staff read old conversations against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

METADATA_KEY = "consent_wording"

SCREENING_CONSENT_VERSION = "screening-consent-v1"
CONTACT_CONSENT_VERSION = "contact-consent-v1"

# Which slot each consent question fills, by the version's prefix.
SLOT_OF_PREFIX = {"screening-consent": "consent_given", "contact-consent": "contact_consent"}


def slot_for_version(version: str | None) -> str | None:
    """consent_given / contact_consent for a wording version, None for anything else."""
    for prefix, slot in SLOT_OF_PREFIX.items():
        if version and version.startswith(prefix + "-"):
            return slot
    return None


def wording_shown(events: Iterable[dict[str, Any]], slot: str) -> str | None:
    """The version of the latest question for `slot` among tracker events (dicts)."""
    shown = None
    for event in events:
        if event.get("event") == "bot":
            version = (event.get("metadata") or {}).get(METADATA_KEY)
            if slot_for_version(version) == slot:
                shown = version
    return shown


def answered_at(events: Iterable[dict[str, Any]], slot: str, value: Any = True) -> float | None:
    """When the slot was last set to value (Unix seconds), from tracker events (dicts)."""
    at = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value") == value:
            at = event.get("timestamp")
    return at
