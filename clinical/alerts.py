"""Urgent advice as the channels show it: the emergency number and the clinic's crisis lines
to tap (the widget's alert, numbered lines on SMS and Telegram). Only numbers from clinic.yml
are ever made a call. Shared by the actions and by the fault handling, which gives the
safety net's advice even when the action server cannot be reached (serving/fault_handling.py).
"""

from __future__ import annotations

from typing import Any

from clinical.clinic import ClinicSettings
from clinical.contact import dialable


def call(settings: ClinicSettings, label: str, number: str) -> dict[str, str]:
    """A tap-to-call entry: `number` as the clinic wrote it (shown), `tel` the form a phone
    dials (tel: links, text channels)."""
    return {"label": label, "number": number, "tel": dialable(number, settings.region)}


def emergency_calls(settings: ClinicSettings, with_crisis_lines: bool = False) -> list[dict[str, str]]:
    calls = [call(settings, settings.say("calls.emergency"), settings.emergency_number)]
    if with_crisis_lines:
        calls += [call(settings, name, phone) for name, phone, _ in settings.crisis_contacts]
    return calls


def alert(level: str, calls: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Urgent advice: level "emergency" (call the emergency number now) or "same_day" (see a
    doctor or emergency dentist today), the levels of clinical/outcome_rules.yml."""
    return {"kind": "alert", "level": level, "call": calls or []}
