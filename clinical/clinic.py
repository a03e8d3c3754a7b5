"""Clinic settings (``clinic.yml``): names, phone numbers and wording that differ per clinic.

Pure Python; validated at load so a typo fails at start-up, not mid-conversation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

from clinical.rules import load_rulebook

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "clinic.yml"
REQUIRED = ("clinic_name", "phone", "booking_instructions", "next_steps", "emergency_number",
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
    missing = [k for k in REQUIRED if not str(raw.get(k) or "").strip()]
    if missing:
        raise ValueError(f"{path}: missing clinic settings: {', '.join(missing)}")
    known = set(ClinicSettings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path}: unknown clinic settings: {', '.join(unknown)}")
    settings = ClinicSettings(**{k: (str(v).strip() if k != "rule_overrides" else (v or {}))
                                 for k, v in raw.items()})
    load_rulebook().with_overrides(settings.rule_overrides)  # fails early on a bad override
    return settings
