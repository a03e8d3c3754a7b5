"""What the safety net found in the latest message, in the terms the actions need: which
findings apply (not from a button, not a flag the person already said they don't have),
their tier, and the events that record them for staff. Shared by actions/safety.py and by
the actions that read typed replies outside the questionnaire (consent, the summary, the
consultation request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from clinical.rules import URGENT_CARE, evaluate
from clinical.safety_net import DISTRESS, RED_FLAG, Finding, scan


def tier(finding: Finding, answers: dict[str, Any]) -> str | None:
    """emergency / same_day / None (refer tier, or an age-dependent flag under 50)."""
    if finding.kind != RED_FLAG:
        return None
    trial = {finding.question: finding.value}
    if finding.needs_age:
        age = answers.get("patient_age")
        trial["patient_age"] = age if isinstance(age, (int, float)) else 99  # unknown: assume it applies
    result = evaluate(trial)
    return result.urgent_tier if result.outcome == URGENT_CARE else None


def findings_for(tracker: Tracker, at: str | None, answers: dict[str, Any]) -> list[Finding]:
    """What the latest typed message says that the safety net must act on: never from a
    tapped button, never a flag the person already said they don't have, never a flag
    already recorded with the same answer."""
    text = tu.latest_text(tracker)
    if tu.is_payload_syntax(text):
        return []
    dismissed = set(tracker.get_slot("dismissed_flags") or [])
    return [
        f
        for f in scan(text, at, answers)
        if f.kind == DISTRESS or (f.flag not in dismissed and answers.get(f.question) != f.value)
    ]


def flag_record(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "flag": finding.flag,
        "question": finding.question,
        "value": finding.value,
        "words": finding.words,
        "certain": finding.certain,
    }


def with_flags(tracker: Tracker, findings: Sequence[Finding]) -> list[EventType]:
    """The ``safety_flags`` slot with these findings added (staff see them in the portal)."""
    return with_records(tracker, [flag_record(f) for f in findings])


def with_records(tracker: Tracker, records: Sequence[dict[str, Any]]) -> list[EventType]:
    """The ``safety_flags`` slot with these records added; distress is also flagged."""
    flags = list(tracker.get_slot("safety_flags") or [])
    flags += [r for r in records if r not in flags]
    events: list[EventType] = [SlotSet("safety_flags", flags)]
    if any(r.get("kind") == DISTRESS for r in records):
        events.append(SlotSet("distress_flagged", True))
    return events


@dataclass
class Mentions:
    answers: dict[str, Any] = field(default_factory=dict)  # question id -> value to record
    events: list[EventType] = field(default_factory=list)  # safety_flags for staff


def mentioned_flags(tracker: Tracker, answers: dict[str, Any], at: str | None = None) -> Mentions:
    """Red flags mentioned in passing outside the questionnaire ("sure. btw I've had loads
    of nosebleeds"), to record as answers. Distress and uncertain urgent flags are not
    here: the NLU sends those to the safety net's own action."""
    found = []
    for finding in findings_for(tracker, at, answers):
        if finding.kind != RED_FLAG or (tier(finding, answers) and not finding.certain):
            continue
        age = answers.get("patient_age")
        if finding.needs_age and isinstance(age, (int, float)) and age <= 50:
            continue
        if finding.question in {f.question for f in found}:
            continue  # the first (most serious) finding for a question wins
        found.append(finding)
    if not found:
        return Mentions()
    return Mentions({f.question: f.value for f in found}, with_flags(tracker, found))


def record_mentions(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Records the red flags mentioned in passing (``mentioned_flags``) as answers, and
    says so ("I've noted that from what you said: ...")."""
    found = mentioned_flags(tracker, tu.answers_from(tracker))
    events: list[EventType] = []
    for qid, value in found.answers.items():
        events.append(SlotSet(qid, value))
        dispatcher.utter_message(text=tu.noted_answer_text(tu.questionnaire().get(qid), value))
    return events + (found.events if events else [])
