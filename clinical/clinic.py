"""Clinic settings (``clinic.yml``): names, phone numbers and wording that differ per clinic.

Pure Python; validated at load so a typo fails at start-up, not mid-conversation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

from clinical.rules import load_rulebook

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "clinic.yml"
REQUIRED = ("crisis_contacts", "clinic_name", "phone", "booking_instructions", "next_steps", "emergency_number",
            "same_day_advice", "cost_text", "practitioners_text")


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
    email: str = ""
    language: str = "en"
    rule_overrides: Dict[str, Any] = field(default_factory=dict)
    # Given at once to anyone in distress (clinical reference section 8): (name, phone, details).
    crisis_contacts: Tuple[Tuple[str, str, str], ...] = ()

    def crisis_contacts_text(self) -> str:
        """One line per contact, for the distress reply."""
        return "\n".join(f"• {name}: {phone}" + (f" ({details})" if details else "")
                         for name, phone, details in self.crisis_contacts)

    @property
    def emergency_advice(self) -> str:
        """Appended to unsure red-flag answers: what to do if the sign might be there."""
        return f"call {self.emergency_number} now."

    def as_slots(self) -> Dict[str, str]:
        """Values the domain's responses can use, e.g. {clinic_name}."""
        return {"clinic_name": self.clinic_name, "clinic_phone": self.phone,
                "emergency_number": self.emergency_number}


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
    structured = {"rule_overrides": raw.pop("rule_overrides", None) or {},
                  "crisis_contacts": _crisis_contacts(path, raw.pop("crisis_contacts", None))}
    settings = ClinicSettings(**{k: str(v).strip() for k, v in raw.items()}, **structured)
    load_rulebook().with_overrides(settings.rule_overrides)  # fails early on a bad override
    return settings


def _crisis_contacts(path: Path, raw: Any) -> Tuple[Tuple[str, str, str], ...]:
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
