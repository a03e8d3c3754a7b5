"""Runs the patient-phrasing corpus (tests/corpus/*.yml, format in tests/corpus/README.md)
through the trained assistant: each case is one typed message at one point of a real
conversation (the conversation is put at that point, then the message goes through the
guard, the NLU, the rules, the forms and the actions), and is scored on what the
assistant recorded and did.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions import tracker_utils as tu
from actions.outcome import CONFIRM_BUTTONS, SECTION_BUTTONS, change_section_payload
from actions.questionnaire import question_buttons
from clinical.questionnaire import NOT_ASKED, UNSURE, load_questionnaire
from clinical.rules import EMERGENCY, SAME_DAY, evaluate, load_rulebook

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"
QUESTIONNAIRE = load_questionnaire()
POINTS = ("consent", "summary", "change_what", "contact_name", "contact_times")
REASK = "reask"
TIER_RANK = {EMERGENCY: 3, SAME_DAY: 2, "refer": 1}


def tier_of(rule_id: str) -> str:
    rule = next((r for r in load_rulebook().rules if r.id == rule_id), None)
    return rule.tier if rule and rule.tier else "refer"


def load_cases(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CORPUS_DIR / f"{name}.yml").read_text(encoding="utf-8"))["cases"]


def case_type(case: dict[str, Any]) -> str:
    """The answer type a case is scored under."""
    at = case["at"]
    if at in ("contact_name", "contact_times"):
        return "free_text"
    if at in POINTS:
        return at
    return QUESTIONNAIRE.get(at).type


def plain_answers(given: dict[str, Any], before: str | None = None) -> dict[str, Any]:
    """Unremarkable answers to every question (before ``before``, if given)."""
    answers = {**unremarkable_answers(before), **given}
    return QUESTIONNAIRE.normalise(answers) if before is None else _normalise_partial(answers, before)


def unremarkable_answers(before: str | None = None) -> dict[str, Any]:
    """An answer that triggers no rule for every question (those before ``before``, if given)."""
    answers: dict[str, Any] = {}
    for q in QUESTIONNAIRE.questions:
        if q.id == before:
            break
        if q.type == "yes_no":
            answers[q.id] = "no"
        elif q.type == "choice":
            answers[q.id] = q.no_means if q.no_means and q.option(q.no_means) else q.options[0].value
        elif q.type == "number":
            answers[q.id] = 40 if q.id == "patient_age" else 5
        elif q.type == "medicines":
            answers[q.id] = []
        else:
            answers[q.id] = ["nothing"]
    return answers


def _normalise_partial(answers: dict[str, Any], before: str) -> dict[str, Any]:
    full = QUESTIONNAIRE.normalise({**{q.id: None for q in QUESTIONNAIRE.questions}, **answers})
    full[before] = None
    return full


@dataclass
class Outcome:
    case: dict[str, Any]
    answer_ok: bool | None = None  # None: the case has no `expect`
    red_flag_caught: bool | None = None
    distress_caught: bool | None = None
    false_alarm: bool = False
    replied: bool = True
    got: Any = None
    exact_rule: bool | None = None

    @property
    def passed(self) -> bool:
        return (
            all(x is not False for x in (self.answer_ok, self.red_flag_caught, self.distress_caught))
            and not self.false_alarm
            and self.replied
        )


def run_case(assistant, case: dict[str, Any]) -> Outcome:
    sender = f"corpus-{case['id']}-{uuid.uuid4().hex[:6]}"
    given = dict(case.get("given") or {})
    assistant.say(sender, "hi")  # session start, clinic settings, the consent question
    at = case["at"]
    if at != "consent":
        _position(assistant, sender, at, given)
    before = assistant.slots(sender)
    replies = assistant.say(sender, case["text"])
    slots = assistant.slots(sender)
    outcome = Outcome(case, replied=bool(replies))
    answers = {q.id: slots.get(q.id) for q in QUESTIONNAIRE.questions}
    recorded = set(evaluate(QUESTIONNAIRE.normalise(answers)).reasons) | set(slots.get("screening_reasons") or [])
    confirming = _rule_awaiting_confirmation(slots, answers)
    fired_before = set(
        evaluate(QUESTIONNAIRE.normalise({q.id: before.get(q.id) for q in QUESTIONNAIRE.questions})).reasons
    )
    if "red_flag" in case:
        # Caught: that rule, or one needing care at least as soon (the advice a person
        # gets is the tier's), recorded or being confirmed with the advice shown.
        outcome.red_flag_caught = any(
            TIER_RANK[tier_of(r)] >= TIER_RANK[tier_of(case["red_flag"])]
            for r in (recorded | confirming)
            if r.startswith("rf_")
        )
        outcome.exact_rule = case["red_flag"] in recorded | confirming
    elif {r for r in recorded - fired_before if r.startswith("rf_")} and not case.get("distress"):
        outcome.false_alarm = True  # recorded a red flag the person did not describe
    distressed = bool(slots.get("distress_flagged"))
    if case.get("distress"):
        outcome.distress_caught = distressed
    elif distressed:
        outcome.false_alarm = True
    if "expect" in case:
        outcome.got, outcome.answer_ok = _score_answer(at, case["expect"], slots)
    return outcome


def _rule_awaiting_confirmation(slots: dict[str, Any], answers: dict[str, Any]) -> set:
    """A red flag the assistant is asking to confirm, with its advice shown: caught."""
    if slots.get("safety_check") != "red_flag":
        return set()
    flag = slots.get("safety_check_flag")
    for record in slots.get("safety_flags") or []:
        if record.get("flag") == flag:
            trial = {**answers, record["question"]: record["value"]}
            if trial.get("patient_age") is None:
                trial["patient_age"] = 99
            return set(evaluate(QUESTIONNAIRE.normalise(trial)).reasons)
    return set()


def _position(assistant, sender: str, at: str, given: dict[str, Any]) -> None:
    if at in QUESTIONNAIRE.ids:
        question = QUESTIONNAIRE.get(at)
        slots = {
            **plain_answers(given, before=at),
            "consent_given": True,
            "screening_status": "in_progress",
            "requested_slot": at,
        }
        slots = {k: v for k, v in slots.items() if not (v is None and k in QUESTIONNAIRE.ids and k != at)}
        bot = [{"text": tu.format_with_settings(question.text), "buttons": question_buttons(question)}]
        assistant.position(sender, slots=slots, loop="screening_form", bot_messages=bot)
        return
    answers = plain_answers(given)
    if at == "summary":
        assistant.position(
            sender,
            slots={**answers, "consent_given": True, "screening_status": "awaiting_confirmation"},
            loop=None,
            bot_messages=[
                {"text": "Here is a summary of your answers:\n" + "\n".join(QUESTIONNAIRE.summary_lines(answers))},
                {"text": "Is this all correct?", "buttons": CONFIRM_BUTTONS},
            ],
        )
    elif at == "change_what":
        buttons = [{"title": t, "payload": change_section_payload(s)} for t, s in SECTION_BUTTONS]
        assistant.position(
            sender,
            slots={**answers, "consent_given": True, "screening_status": "choosing_change"},
            loop=None,
            bot_messages=[{"text": "Which part would you like to change?", "buttons": buttons}],
        )
    else:
        slot = at
        slots = {
            **answers,
            "consent_given": True,
            "screening_status": "completed",
            "screening_outcome": "eligible_for_consultation",
            "screening_reasons": [],
            "requested_slot": slot,
        }
        if slot == "contact_times":
            slots.update(contact_name="Sam Example", contact_details="+442079460123")
        assistant.position(
            sender,
            slots=slots,
            loop="consultation_form",
            bot_messages=[{"text": f"Please tell me your {slot.replace('contact_', '')}.", "buttons": []}],
        )


def _score_answer(at: str, expect: Any, slots: dict[str, Any]):
    if at == "consent":
        got = slots.get("consent_given")
        want = {"yes": True, "no": False, REASK: None}[str(expect)]
        return got, got == want
    if at == "summary":
        status = slots.get("screening_status")
        got = "yes" if status in ("completed", "urgent_stop") else "no" if status == "choosing_change" else status
        return got, got == str(expect)
    if at == "change_what":
        if expect == "back_to_summary":
            return slots.get("screening_status"), slots.get("screening_status") == "awaiting_confirmation"
        pending = slots.get("requested_slot")
        got = QUESTIONNAIRE.get(pending).section if pending in QUESTIONNAIRE.ids else None
        return got, got == expect
    if at == "contact_name":
        got = slots.get("contact_name")
        return got, got == expect
    if at == "contact_times":
        got = slots.get("contact_times")
        return got, bool(got)
    got = slots.get(at)
    if expect == REASK:
        return got, got is None
    if isinstance(expect, list):
        return got, isinstance(got, list) and sorted(map(str, got)) == sorted(map(str, expect))
    return got, got is not None and got not in (UNSURE, NOT_ASKED) and str(got) == str(expect)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_type(self) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            if o.answer_ok is not None:
                groups[case_type(o.case)].append(o)
        return groups

    def accuracy(self) -> dict[str, float]:
        return {t: sum(o.answer_ok and not o.false_alarm for o in os_) / len(os_) for t, os_ in self.by_type().items()}

    def overall_accuracy(self) -> float:
        scored = [o.answer_ok and not o.false_alarm for o in self.outcomes if o.answer_ok is not None]
        return sum(scored) / max(1, len(scored))

    def missed_red_flags(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.red_flag_caught is False]

    def missed_distress(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.distress_caught is False]

    def false_alarms(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.false_alarm]

    def no_reply(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.replied]

    def lines(self, name: str, show_text: bool) -> list[str]:
        """A printable report. ``show_text`` False for the sealed part: totals only."""
        out = [f"== {name}: {len(self.outcomes)} cases =="]
        for t, acc in sorted(self.accuracy().items()):
            out.append(f"  answer accuracy {t:<11} {acc:6.1%}  ({len(self.by_type()[t])} cases)")
        flags = [o for o in self.outcomes if o.red_flag_caught is not None]
        distress = [o for o in self.outcomes if o.distress_caught is not None]
        out.append(
            f"  red flags caught          {sum(o.red_flag_caught for o in flags)}/{len(flags)}"
            f"  (as that very rule: {sum(bool(o.exact_rule) for o in flags)})"
        )
        out.append(f"  distress caught           {sum(o.distress_caught for o in distress)}/{len(distress)}")
        out.append(f"  false alarms              {len(self.false_alarms())}")
        out.append(f"  answer accuracy overall   {self.overall_accuracy():6.1%}")
        if not show_text:
            # A sealed part prints totals only: no text, no ids, no failure list (issue 20).
            return out
        for o in [o for o in self.outcomes if not o.passed]:
            text = f" {o.case['text']!r}"
            out.append(
                f"  FAIL {o.case['id']} at={o.case['at']} expect={o.case.get('expect')!r} got={o.got!r} "
                f"red_flag={o.case.get('red_flag')} caught={o.red_flag_caught} "
                f"distress={o.distress_caught} false_alarm={o.false_alarm}{text}"
            )
        return out
