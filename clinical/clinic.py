"""Clinic settings (``clinic.yml``): names, phone numbers and wording that differ per clinic.

Pure Python; validated at load so a typo fails at start-up, not mid-conversation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from clinical.contact import DEFAULT_REGION, is_region
from clinical.rules import load_rulebook
from clinical.wording import Wording, WordingError, load_wording

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "clinic.yml"
DEFAULT_TIME_ZONE = "Europe/London"
REQUIRED = (
    "crisis_contacts",
    "clinic_name",
    "phone",
    "booking_instructions",
    "next_steps",
    "emergency_number",
    "same_day_advice",
    "cost_text",
    "practitioners_text",
    "address",
    "opening_hours",
    "cancellation_policy",
)
# The clinic's own aftercare advice, one text per topic (clinical reference 6b: aftercare is the
# clinic's call). A topic left out is answered with "the practitioner will explain".
AFTERCARE_TOPICS = ("general", "eating", "alcohol", "exercise", "lying_down", "face_care")


@dataclass(frozen=True)
class ClinicSettings:
    clinic_name: str
    phone: str
    booking_instructions: str
    next_steps: str
    emergency_number: str
    same_day_advice: str
    cost_text: str
    practitioners_text: str
    # Practical answers for patients' questions (clinical/knowledge.yml placeholders).
    address: str = ""
    opening_hours: str = ""
    cancellation_policy: str = ""
    email: str = ""
    language: str = "en"
    # Where the clinic is (ISO 3166 code, e.g. "GB", "IE", "US"): how a patient's phone number
    # without a country code is read (clinical/contact.py).
    region: str = DEFAULT_REGION
    # The clinic's time zone (IANA name, e.g. "Europe/London"): the staff portal shows every time
    # in it, since a receptionist calls patients back by the clinic's clock, not by UTC.
    time_zone: str = DEFAULT_TIME_ZONE
    # Optional: empty means the knowledge base's "the practitioner will explain" answer is given.
    aftercare: dict[str, str] = field(default_factory=dict)
    follow_up: str = ""
    rule_overrides: dict[str, Any] = field(default_factory=dict)
    # Given at once to anyone in distress (clinical reference section 8): (name, phone, details).
    crisis_contacts: tuple[tuple[str, str, str], ...] = ()

    def crisis_contacts_text(self) -> str:
        """One line per contact, for the distress reply."""
        return "\n".join(
            f"• {name}: {phone}" + (f" ({details})" if details else "") for name, phone, details in self.crisis_contacts
        )

    @property
    def emergency_advice(self) -> str:
        """Appended to unsure red-flag answers: what to do if the sign might be there."""
        return self.say("outcome.emergency_advice")

    def placeholders(self) -> dict[str, str]:
        """Values patient-facing texts may name as {placeholder}."""
        return {
            "clinic_name": self.clinic_name,
            "clinic_phone": self.phone,
            "email": self.email or self.phone,
            "emergency_number": self.emergency_number,
            "cost_text": self.cost_text,
            "practitioners_text": self.practitioners_text,
            "booking_instructions": self.booking_instructions,
            "address": self.address,
            "opening_hours": self.opening_hours,
            "cancellation_policy": self.cancellation_policy,
        }

    def setting(self, dotted: str) -> str:
        """An optional practical text by its dotted name ("aftercare.alcohol", "follow_up");
        empty when the clinic gives none."""
        head, _, topic = dotted.partition(".")
        if head == "aftercare" and topic in AFTERCARE_TOPICS:
            return self.aftercare.get(topic, "")
        if head == "follow_up" and not topic:
            return self.follow_up
        raise KeyError(f"unknown clinic setting: {dotted}")

    @property
    def wording(self) -> Wording:
        """The wording catalogue in the clinic's language (clinical/wording/<language>.yml)."""
        return load_wording(self.language)

    def say(self, text_id: str, **values: Any) -> str:
        """A catalogue text in the clinic's language, with the clinic's details and ``values``
        filled in (clinical/wording.py)."""
        return self.wording.say(text_id, **{**self.placeholders(), "next_steps": self.next_steps, **values})

    def as_slots(self) -> dict[str, str]:
        """Values the domain's responses can use, e.g. {clinic_name}."""
        return {"clinic_name": self.clinic_name, "clinic_phone": self.phone, "emergency_number": self.emergency_number}


def is_time_zone(name: str) -> bool:
    """An IANA time-zone name the tz database knows ("Europe/London"); "UTC" is one too."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False  # ZoneInfo would read such a "key" as a path
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def settings_path() -> Path:
    return Path(os.environ.get("CLINIC_SETTINGS", DEFAULT_PATH))


@lru_cache(maxsize=4)
def load_clinic_settings(path: Path = None) -> ClinicSettings:
    path = Path(path or settings_path())
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [k for k in REQUIRED if not raw.get(k) or not str(raw.get(k)).strip()]
    if missing:
        raise ValueError(f"{path}: missing clinic settings: {', '.join(missing)}")
    known = set(ClinicSettings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path}: unknown clinic settings: {', '.join(unknown)}")
    structured = {
        "rule_overrides": raw.pop("rule_overrides", None) or {},
        "crisis_contacts": _crisis_contacts(path, raw.pop("crisis_contacts", None)),
        "aftercare": _aftercare(path, raw.pop("aftercare", None)),
    }
    settings = ClinicSettings(**{k: str(v).strip() for k, v in raw.items()}, **structured)
    if not is_region(settings.region):
        raise ValueError(f"{path}: region must be a country code such as GB, IE or US, not {settings.region!r}")
    if not is_time_zone(settings.time_zone):
        raise ValueError(
            f"{path}: time_zone must be an IANA time zone such as Europe/London or America/New_York,"
            f" not {settings.time_zone!r}"
        )
    load_rulebook().with_overrides(settings.rule_overrides)  # fails early on a bad override
    try:
        load_wording(settings.language)  # a language needs its wording file
    except WordingError as error:
        raise ValueError(f"{path}: language: {error}") from None
    return settings


def _crisis_contacts(path: Path, raw: Any) -> tuple[tuple[str, str, str], ...]:
    """A non-empty list of {name, phone, details?}: a person in crisis must get a number."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: crisis_contacts must be a list of {{name, phone, details}}")
    contacts = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"name", "phone", "details"}:
            raise ValueError(f"{path}: each crisis contact has name, phone and (optional) details: {item!r}")
        name, phone = str(item.get("name") or "").strip(), str(item.get("phone") or "").strip()
        if not name or not phone or not any(ch.isdigit() for ch in phone):
            raise ValueError(f"{path}: crisis contact needs a name and a phone number: {item!r}")
        contacts.append((name, phone, str(item.get("details") or "").strip()))
    return tuple(contacts)


def _aftercare(path: Path, raw: Any) -> dict[str, str]:
    """{topic: text} for the known topics only: a misspelt topic would silently never be said."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: aftercare must be a mapping of topic: text ({', '.join(AFTERCARE_TOPICS)})")
    unknown = sorted(set(raw) - set(AFTERCARE_TOPICS))
    if unknown:
        raise ValueError(
            f"{path}: unknown aftercare topics: {', '.join(map(str, unknown))} (known: {', '.join(AFTERCARE_TOPICS)})"
        )
    return {topic: str(text).strip() for topic, text in raw.items() if text is not None and str(text).strip()}
