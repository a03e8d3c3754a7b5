"""The two consent questions, each with a wording version.

The version goes into the bot message's metadata (Rasa stores it with the message in the
tracker store; channels ignore it), so the transcript shows exactly what a person agreed
to and under which version of the wording. The consultation request row records the
contact consent's version and time too.

The texts are in the wording catalogue (clinical/wording/en.yml, ids
consent.screening.<version> and consent.contact.<version>; docs/wording.md).
Change a wording => give it a new version (tests/test_consent.py holds a fingerprint of
each version's template and fails when the text changes under an old version). Keep the
old versions listed: staff read old conversations against them.
"""

from __future__ import annotations

import hashlib
from typing import Any

# The versions and the lookups on recorded events are in the Rasa-free core, which the
# staff portal reads too; re-exported here so `consent.X` keeps working for the actions.
from clinical.consent import (  # noqa: F401
    CONTACT_CONSENT_VERSION,
    METADATA_KEY,
    SCREENING_CONSENT_VERSION,
    SLOT_OF_PREFIX,
    answered_at,
    slot_for_version,
    wording_shown,
)
from clinical.wording import REFERENCE_LANGUAGE, wording


def wording_id(version: str) -> str:
    """The catalogue id of a version's text: consent.screening.<version> / consent.contact.<version>."""
    return f"consent.{version.split('-')[0]}.{version}"


# Every wording ever shown, by version, in the reference language (what the portal explains
# and tests/test_consent.py fingerprints; never remove one from the catalogue).
WORDINGS: dict[str, str] = {
    **wording(REFERENCE_LANGUAGE).section("consent.screening"),
    **wording(REFERENCE_LANGUAGE).section("consent.contact"),
}
SCREENING_CONSENT_TEMPLATE = WORDINGS[SCREENING_CONSENT_VERSION]
CONTACT_CONSENT_TEMPLATE = WORDINGS[CONTACT_CONSENT_VERSION]


def fingerprint(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def screening_consent_text(clinic_name: str, emergency_number: str, language: str = REFERENCE_LANGUAGE) -> str:
    return wording(language).say(
        wording_id(SCREENING_CONSENT_VERSION), clinic_name=clinic_name, emergency_number=emergency_number
    )


def contact_consent_text(clinic_name: str, contact: Any, language: str = REFERENCE_LANGUAGE) -> str:
    return wording(language).say(wording_id(CONTACT_CONSENT_VERSION), clinic_name=clinic_name, contact=contact)
