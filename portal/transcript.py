"""One conversation read back from the tracker store: transcript and screening summary.

Only the conversation page uses this; it reads that one conversation's events (the
``events`` table is indexed on sender_id), never the whole store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from clinical import consent
from clinical.clinic import load_clinic_settings
from clinical.questionnaire import NOT_ASKED, load_questionnaire
from clinical.rules import load_rulebook
from portal.questions import QuestionLog
from portal.safety import SafetyFlag, SafetyNet
from portal.screenings import SESSION_EVENT, Screening, split_screenings
from portal.tiers import tier_of

SLOT_RESET_EVENTS = ("reset_slots", "restart")
CONSENT_SLOTS = ("consent_given", "contact_consent")


@dataclass
class Turn:
    speaker: str  # "user" or "bot"
    timestamp: float
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)  # bot: offered
    chosen_button: str | None = None  # user: the title of the button tapped


@dataclass
class ConsentAnswer:
    """One answer to a consent question, as the tracker store recorded it."""

    slot: str  # consent_given (to the screening) or contact_consent (to being contacted)
    given: bool
    timestamp: float
    wording_version: str | None  # None: asked before versions were recorded
    question: str  # the text the bot showed


@dataclass
class Conversation:
    conversation_id: str
    turns: list[Turn]
    slots: dict[str, Any]
    consents: list[ConsentAnswer] = field(default_factory=list)
    # Every safety-net flag and distress the conversation ever had, kept across start-overs
    # (``slots`` holds only the values since the last one).
    safety_net: SafetyNet = field(default_factory=SafetyNet)
    # Every unanswered question, and whether the person ever asked for a person, likewise.
    question_log: QuestionLog = field(default_factory=QuestionLog)
    # Every screening of the conversation, oldest first (portal/screenings.py): a start over
    # clears ``slots`` but never an earlier screening's outcome or red flags.
    screenings: list[Screening] = field(default_factory=list)

    @property
    def started_at(self) -> float | None:
        return self.turns[0].timestamp if self.turns else None


def conversation_exists(tracker: sa.engine.Engine, conversation_id: str) -> bool:
    if not conversation_id or not sa.inspect(tracker).has_table("events"):
        return False
    with tracker.connect() as conn:
        return (
            conn.execute(
                sa.text("SELECT 1 FROM events WHERE sender_id = :sid LIMIT 1"), {"sid": conversation_id}
            ).first()
            is not None
        )


def load_conversation(tracker: sa.engine.Engine, conversation_id: str) -> Conversation | None:
    """The conversation's turns and its current slot values, or None if it has no events."""
    if not sa.inspect(tracker).has_table("events"):
        return None
    with tracker.connect() as conn:
        events = conn.execute(
            sa.text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :sid ORDER BY id"),
            {"sid": conversation_id},
        ).fetchall()
    if not events:
        return None
    turns: list[Turn] = []
    slots: dict[str, Any] = {}
    offered: dict[str, str] = {}  # payload -> title of the buttons the bot offered last
    consents: list[ConsentAnswer] = []
    last_bot: dict[str, Any] = {}
    safety_net = SafetyNet()
    question_log = QuestionLog()
    split: list[tuple[str, float, dict[str, Any]]] = []  # what split_screenings needs
    for type_name, timestamp, raw in events:
        if type_name in SLOT_RESET_EVENTS:
            slots = {}
            split.append((type_name, timestamp, {}))
            continue
        if type_name == SESSION_EVENT:
            split.append((type_name, timestamp, {}))
        if type_name not in ("user", "bot", "slot"):
            continue
        data = json.loads(raw or "{}")
        split.append((type_name, timestamp, data))
        if type_name == "slot":
            slots[data.get("name")] = data.get("value")
            safety_net.fold_slot(data.get("name"), data.get("value"), timestamp)
            question_log.fold_slot(data.get("name"), data.get("value"), timestamp)
            if data.get("name") in CONSENT_SLOTS and isinstance(data.get("value"), bool):
                consents.append(_consent_answer(data, timestamp, last_bot))
        elif type_name == "bot":
            last_bot = data
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in ((data.get("data") or {}).get("buttons") or [])
            ]
            offered = {b["payload"]: b["title"] for b in buttons} if buttons else offered
            turns.append(Turn("bot", timestamp, str(data.get("text") or ""), buttons))
        else:
            text = str(data.get("text") or "")
            # The REST channel sends a tapped button as its payload; show which button it was.
            turns.append(Turn("user", timestamp, text, chosen_button=offered.get(text)))
            offered = {}
    screenings = split_screenings(split)
    return Conversation(conversation_id, turns, slots, consents, safety_net, question_log, screenings)


def _consent_answer(slot_event: dict[str, Any], timestamp: float, question: dict[str, Any]) -> ConsentAnswer:
    # The answer's slot event follows the question (the last bot message before it); the
    # question's metadata names the wording version (clinical/consent.py).
    version = (question.get("metadata") or {}).get(consent.METADATA_KEY)
    if consent.slot_for_version(version) != slot_event.get("name"):
        version = None
    return ConsentAnswer(slot_event["name"], slot_event["value"], timestamp, version, str(question.get("text") or ""))


def screening_summaries(screenings: list[Screening]) -> list[dict[str, Any]]:
    """Every screening's summary, latest first, with its number, start, red flags (and
    their tiers) and where it stopped, for the conversation and print pages."""
    return [
        {
            **screening_summary(s.slots),
            "number": s.number,
            "started_at": s.started_at,
            "ended_by_start_over": s.ended_by_start_over,
            "dropped_at": s.dropped_at,
            "red_flags": [{"id": f, "tier": tier_of(f)} for f in s.red_flags],
        }
        for s in reversed(screenings)
    ]


def screening_summary(slots: dict[str, Any]) -> dict[str, Any]:
    """Answers per question, TMD score, outcome and reasons with the patient's wording."""
    questionnaire = load_questionnaire()
    answers = [
        {"id": q.id, "question": q.summary, "value": slots.get(q.id), "label": q.label_for(slots.get(q.id))}
        for q in questionnaire.questions
        if slots.get(q.id) not in (None, NOT_ASKED)
    ]
    return {
        "answers": answers,
        "tmd_screener_score": slots.get("tmd_screener_score"),
        "outcome": slots.get("screening_outcome"),
        # the version of the screening rules that decided it (None: not recorded)
        "ruleset_version": slots.get("ruleset_version") or None,
        "status": slots.get("screening_status"),
        "reasons": [{"id": r, "text": reason_text(r)} for r in (slots.get("screening_reasons") or [])],
    }


def safety_items(net: SafetyNet) -> list[dict[str, Any]]:
    """The safety-net flags with the question's and the answer's wording, for staff."""
    questionnaire = load_questionnaire()
    return [_safety_item(flag, questionnaire) for flag in net.flags]


def _safety_item(flag: SafetyFlag, questionnaire) -> dict[str, Any]:
    item = {
        "kind": flag.kind,
        "flag": flag.flag,
        "question_id": flag.question,
        "question": None,
        "answer": flag.value,
        "words": flag.words,
        "certain": flag.certain,
        "at": flag.at,
    }
    if flag.question:
        try:
            question = questionnaire.get(flag.question)
        except KeyError:  # renamed or removed since the conversation: show the id only
            return item
        item["question"] = question.summary
        if flag.value is not None:
            item["answer"] = question.label_for(flag.value)
    return item


def reason_text(rule_id: str) -> str:
    """The wording the patient was given for a rule id (with the clinic's overrides)."""
    settings = load_clinic_settings()
    book = load_rulebook().with_overrides(settings.rule_overrides)
    try:
        return book.patient_text(rule_id, settings.emergency_advice)
    except KeyError:
        # A rule or question renamed or removed since the conversation; say so rather
        # than fail the page.
        if rule_id.startswith("unsure_"):
            return f"(unknown question {rule_id[len('unsure_') :]})"
        return "(this rule is no longer in clinical/outcome_rules.yml)"
