"""Urgent advice as the channels show it: the emergency number and the clinic's crisis lines
to tap (the widget's alert, numbered lines on SMS and Telegram). Only numbers from clinic.yml
are ever made a call. Shared by the actions and by the fault handling, which gives the
safety net's advice even when the action server cannot be reached (serving/fault_handling.py).
"""

from __future__ import annotations

from typing import Any

from clinical.clinic import ClinicSettings
from clinical.contact import dialable
from clinical.rules import EMERGENCY, SAME_DAY


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


def advice_alert(settings: ClinicSettings, level: str | None) -> dict[str, Any]:
    """The alert that goes with a tier's advice: the emergency number to tap when it says to
    call it; same-day advice names no number of ours to call (the clinic's own advice text
    may name a local service, which stays text)."""
    level = EMERGENCY if level == EMERGENCY else SAME_DAY
    return alert(level, emergency_calls(settings) if level == EMERGENCY else [])


def crisis_alert(settings: ClinicSettings) -> dict[str, Any]:
    """The emergency number and the clinic's crisis lines, each to tap (clinic.yml)."""
    return alert(EMERGENCY, emergency_calls(settings, with_crisis_lines=True))


def distress_messages(settings: ClinicSettings, indirect: bool) -> list[dict[str, Any]]:
    """The reply to distress (clinical reference s.8), in order: the warm words; after an
    indirect sign the gentle direct question; the crisis contacts with the numbers to tap
    ("custom"). The action server and the fault handling both give exactly this."""
    contacts = settings.crisis_contacts_text()
    messages = [{"text": settings.say("safety.distress", contacts=contacts)}]
    if indirect:
        messages.append({"text": settings.say("safety.ask_thoughts", contacts=contacts)})
    messages.append(
        {"text": settings.say("safety.crisis_contacts", contacts=contacts), "custom": crisis_alert(settings)}
    )
    return messages
