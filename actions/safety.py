"""The safety net at every point of the conversation (clinical reference sections 2 and 8).

clinical/safety_net.py finds red flags and distress in a message; this module decides
what happens:
- distress: a warm reply with the clinic's crisis contacts at once, the conversation
  flagged for staff, any form paused, and "Are you safe right now?" (safety_check_form);
- a red flag that needs care now: recorded as the answer to its red-flag question (the
  person's words kept in ``safety_flags``) and the urgent advice given at once, which
  ends the questionnaire; an uncertain match is confirmed once, with the advice shown in
  the same message;
- a refer-tier red flag: recorded and acknowledged; the questionnaire goes on.

During the questionnaire, validate_screening_form calls ``check_in_form`` first, so the
same message can also answer the pending question. Everywhere else the NLU marks the
message ``safety_concern`` (medical_nlu/safety_component.py) and data/rules.yml sends it
to ``action_safety_net``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from actions.outcome import give_outcome
from actions.safety_findings import findings_for, tier, with_flags, with_records
from clinical import alerts
from clinical.questionnaire import NOT_ASKED, UNSURE, Question
from clinical.rules import EMERGENCY, SAME_DAY
from clinical.safe_answer import SAFE, read_safe_answer
from clinical.safety_net import DISTRESS, INDIRECT, RED_FLAG, Finding, load_safety_net, scan
from clinical.safety_net import safety_messages as clinical_safety_messages
from clinical.typed_answers import leading_yes_no

LOOPS = ("consent_form", "screening_form", "consultation_form")
CHECK_DISTRESS, CHECK_RED_FLAG, CHECK_HANDLED = "distress", "red_flag", "handled"
# The portal's record that the answer to "Are you safe right now?" was not a clear yes.
MAY_NOT_BE_SAFE = "may_not_be_safe"


# ---------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------


def safety_messages() -> dict[str, Any]:
    """The safety net's wording in the clinic's language (the catalogue's ``safety`` section)."""
    return clinical_safety_messages(tu.settings().language)


def message(key: str, **values: Any) -> str:
    return tu.say(f"safety.{key}", contacts=tu.settings().crisis_contacts_text(), **values)


def advice(level: str | None) -> str:
    """What to do now for a tier (emergency / same_day)."""
    return tu.say(f"safety.advice.{EMERGENCY if level == EMERGENCY else SAME_DAY}")


def advice_alert(level: str | None) -> dict[str, Any]:
    return alerts.advice_alert(tu.settings(), level)


def crisis_alert() -> dict[str, Any]:
    return alerts.crisis_alert(tu.settings())


def yes_no_buttons(labels_key: str) -> list[dict[str, str]]:
    labels = safety_messages()[labels_key]
    return [tu.button(labels["yes"], "yes"), tu.button(labels["no"], "no")]


# ---------------------------------------------------------------------------------------
# Responding to findings
# ---------------------------------------------------------------------------------------


def respond_to_distress(dispatcher: CollectingDispatcher, tracker: Tracker, finding: Finding) -> list[EventType]:
    """The reply, the crisis contacts, the flag; safety_check_form then asks if they're safe.
    After an indirect sign, the gentle direct question comes first (reference s.8)."""
    for reply in alerts.distress_messages(tu.settings(), indirect=finding.flag == INDIRECT):
        dispatcher.utter_message(text=reply["text"], json_message=reply.get("custom"))
    return with_flags(tracker, [finding]) + [SlotSet("safety_check", CHECK_DISTRESS), SlotSet("safety_answer", None)]


def ask_to_confirm(tracker: Tracker, finding: Finding) -> list[EventType]:
    return with_flags(tracker, [finding]) + [
        SlotSet("safety_check", CHECK_RED_FLAG),
        SlotSet("safety_check_flag", finding.flag),
        SlotSet("safety_answer", None),
    ]


def record(finding: Finding, answers: dict[str, Any]) -> list[EventType]:
    """The red flag as the answer to its question (``answers`` updated in place)."""
    answers[finding.question] = finding.value
    return [SlotSet(finding.question, finding.value)]


@dataclass
class InFormResult:
    events: list[EventType] = field(default_factory=list)
    stop: bool = False  # end the screening form now (distress, a flag to confirm)
    recorded: set = field(default_factory=set)  # questions answered by a red flag


def check_in_form(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: Question, answers: dict[str, Any]
) -> InFormResult:
    """The safety net on a reply during the questionnaire, before it is read as an answer."""
    found = findings_for(tracker, question.id, answers)
    result = InFormResult()
    distress = next((f for f in found if f.kind == DISTRESS), None)
    if distress:
        result.events = respond_to_distress(dispatcher, tracker, distress) + [
            SlotSet("safety_interrupted", "screening_form"),
            SlotSet("requested_slot", None),
        ]
        result.stop = True
        return result
    urgent = [f for f in found if tier(f, answers)]
    uncertain = [f for f in urgent if not f.certain]
    certain = [f for f in urgent if f.certain]
    if uncertain and not certain:
        result.events = ask_to_confirm(tracker, uncertain[0]) + [
            SlotSet("safety_interrupted", "screening_form"),
            SlotSet("requested_slot", None),
        ]
        result.stop = True
        return result
    # Refer-tier flags are recorded and the questionnaire goes on; a hedged one at its own
    # question is that question's hedge ("I think my hearing might be worse?"): asked again.
    to_record = certain + [
        f
        for f in found
        if f.kind == RED_FLAG
        and not tier(f, answers)
        and not (f.needs_age and isinstance(answers.get("patient_age"), (int, float)))
        and not (f.question == question.id and not f.certain)
    ]
    recorded_questions = set()
    for finding in to_record:
        if finding.question in recorded_questions:
            continue  # the first (most serious) finding for a question wins
        recorded_questions.add(finding.question)
        result.events += record(finding, answers)
        if finding not in certain and finding.question != question.id:
            # refer tier: acknowledged; the urgent ones end the questionnaire at once.
            q = tu.questionnaire().get(finding.question)
            dispatcher.utter_message(text=message("flag_noted", summary=q.summary.lower()))
    if to_record:
        result.events += with_flags(tracker, to_record)
    result.recorded = recorded_questions
    # An age-dependent flag recorded before the age is known: validate_screening_form asks
    # the age next (it sees rf_gca answered and no age).
    return result


# ---------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------


class SafetyNet(Action):
    """A red flag or distress outside the questionnaire (consent, summary, booking...)."""

    def name(self) -> str:
        return "action_safety_net"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answers = tu.answers_from(tracker)
        loop = tracker.active_loop.get("name")
        events: list[EventType] = [
            SlotSet("requested_slot", None),
            SlotSet("safety_interrupted", loop if loop in LOOPS else None),
        ]
        if loop:
            events.insert(0, ActiveLoop(None))
        found = findings_for(tracker, None, answers)
        distress = next((f for f in found if f.kind == DISTRESS), None)
        if distress:
            return events + respond_to_distress(dispatcher, tracker, distress)
        urgent = [f for f in found if tier(f, answers) and not f.needs_age]
        certain = [f for f in urgent if f.certain]
        if certain:
            for finding in certain:
                if answers.get(finding.question) != finding.value:
                    events += record(finding, answers)
            return (
                events
                + with_flags(tracker, certain)
                + give_outcome(dispatcher, answers)
                + [SlotSet("safety_check", CHECK_HANDLED), SlotSet("safety_interrupted", None)]
            )
        if urgent:
            return events + ask_to_confirm(tracker, urgent[0])
        # Nothing left to act on (a flag the person already said they don't have): back
        # to where they were.
        dispatcher.utter_message(text=message("ask_again"))
        events.append(SlotSet("safety_check", CHECK_HANDLED))
        return events + ([FollowupAction(loop)] if loop in LOOPS else [])


class AskSafetyAnswer(Action):
    """safety_check_form's one question: "Are you safe right now?" or a flag to confirm."""

    def name(self) -> str:
        return "action_ask_safety_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("safety_check") == CHECK_RED_FLAG:
            finding = _checked_finding(tracker)
            level = tier(finding, tu.answers_from(tracker))
            dispatcher.utter_message(
                text=message(
                    "confirm_flag",
                    description=safety_messages()["descriptions"][finding.flag],
                    advice=advice(level),
                ),
                buttons=tu.yes_no_buttons(),
                json_message=advice_alert(level),
            )
        else:
            dispatcher.utter_message(text=message("ask_safe"), buttons=yes_no_buttons("safe_buttons"))
        return []


class ValidateSafetyCheckForm(Action):
    """Reads the reply to the safety check's one question. Never rejects the message: a
    person asked whether they are safe gets an answer, not a detour into another topic.

    "Are you safe right now?": only a clear yes is safe (clinical/safe_answer.py); a no, an
    unclear reply or another topic is taken at once as "may not be safe" (reference s.8),
    never asked again, and recorded for staff with the person's words and the time.
    A red flag to confirm: yes / no; an unclear reply is asked once more, then "unsure"."""

    def name(self) -> str:
        return "validate_safety_check_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("requested_slot") != "safety_answer":
            return []
        if tracker.get_slot("safety_check") != CHECK_RED_FLAG:
            answer = self._read_safe(tracker)
            events: list[EventType] = [SlotSet("safety_answer", answer), SlotSet("retry_question", None)]
            if answer != "yes":
                events += with_records(tracker, [not_safe_record(tracker)])
            return events
        answer = self._read_flag(tracker)
        if answer is not None:
            return [SlotSet("safety_answer", answer), SlotSet("retry_question", None)]
        if tracker.get_slot("retry_question") == "safety_answer":
            return [SlotSet("safety_answer", UNSURE), SlotSet("retry_question", None)]
        dispatcher.utter_message(text=message("ask_again"))
        return [SlotSet("safety_answer", None), SlotSet("retry_question", "safety_answer")]

    @staticmethod
    def _read_safe(tracker: Tracker) -> str:
        """yes (safe) / no / unsure (both "may not be safe")."""
        choice = tu.button_value(tracker)
        if choice in ("yes", "no"):
            return choice
        text = tu.latest_text(tracker)
        if tu.is_payload_syntax(text):
            return UNSURE  # another button (another topic): not an answer
        if read_safe_answer(text) == SAFE:
            return "yes"
        return "no" if leading_yes_no(text) == "no" or any(f.kind == DISTRESS for f in scan(text)) else UNSURE

    @staticmethod
    def _read_flag(tracker: Tracker) -> str | None:
        choice = tu.button_value(tracker)
        if choice in ("yes", "no", UNSURE):
            return choice
        if tu.is_payload_syntax(tu.latest_text(tracker)):
            return None
        text = tu.latest_text(tracker)
        if any(f.flag == tracker.get_slot("safety_check_flag") and f.certain for f in scan(text)):
            return "yes"
        words = leading_yes_no(text)
        if words:
            return words
        answer = tu.yes_or_no(None, tu.latest_intent(tracker))
        return None if answer is None else ("yes" if answer else "no")


def not_safe_record(tracker: Tracker) -> dict[str, Any]:
    """For the portal's safety block: the person may not be safe, in their own words (the
    slot event's time is when)."""
    text = tu.latest_text(tracker)
    return {
        "kind": DISTRESS,
        "flag": MAY_NOT_BE_SAFE,
        "question": None,
        "value": None,
        "words": "" if tu.is_payload_syntax(text) else text,
        "certain": True,
    }


class AfterSafetyCheck(Action):
    """Acts on the answer to safety_check_form's question."""

    def name(self) -> str:
        return "action_after_safety_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answer = tracker.get_slot("safety_answer")
        interrupted = tracker.get_slot("safety_interrupted")
        reset = [
            SlotSet(k, None)
            for k in ("safety_check", "safety_check_flag", "safety_answer", "safety_interrupted", "retry_question")
        ]
        if tracker.get_slot("safety_check") == CHECK_RED_FLAG:
            return reset + self._after_flag_check(dispatcher, tracker, answer, interrupted)
        key = {"yes": "safe_reply", "no": "not_safe_reply"}.get(answer, "unclear_safe_reply")
        # "not safe" and "couldn't tell" say to call the emergency number now: an alert.
        dispatcher.utter_message(text=message(key), json_message=None if answer == "yes" else crisis_alert())
        carry_on = "/book_consultation" if interrupted == "consultation_form" else "/affirm"
        if answer != "yes":
            # May not be safe: the questions stay paused, with a way on (reference s.8).
            labels = safety_messages()["paused_buttons"]
            buttons = [
                {"title": labels["person"], "payload": "/ask_for_person"},
                {"title": labels["later"], "payload": "/goodbye"},
            ]
            if interrupted in LOOPS:
                buttons.append({"title": labels["now"], "payload": carry_on})
            dispatcher.utter_message(text=message("paused"), buttons=buttons)
            return reset
        buttons = []
        if interrupted in LOOPS:
            labels = safety_messages()["carry_on_buttons"]
            buttons = [
                {"title": labels["carry_on"], "payload": carry_on},
                {"title": labels["stop"], "payload": "/stop"},
            ]
        dispatcher.utter_message(text=message("carry_on"), buttons=buttons)
        return reset

    @staticmethod
    def _after_flag_check(
        dispatcher: CollectingDispatcher, tracker: Tracker, answer: Any, interrupted: str | None
    ) -> list[EventType]:
        finding = _checked_finding(tracker)
        answers = tu.answers_from(tracker)
        resume = [FollowupAction(interrupted)] if interrupted in LOOPS else []
        if answer == "yes":
            confirmed = Finding(
                RED_FLAG, finding.flag, finding.words, True, finding.question, finding.value, finding.needs_age
            )
            return record(confirmed, answers) + with_flags(tracker, [confirmed]) + give_outcome(dispatcher, answers)
        if answer == "no":
            dispatcher.utter_message(text=message("flag_denied"))
            dismissed = list(tracker.get_slot("dismissed_flags") or []) + [finding.flag]
            return [SlotSet("dismissed_flags", dismissed)] + resume
        # Still unclear: recorded "not sure" only with the advice shown again (reference s.2).
        level = tier(finding, answers)
        dispatcher.utter_message(text=message("flag_unsure", advice=advice(level)), json_message=advice_alert(level))
        events: list[EventType] = []
        if answers.get(finding.question) in (None, NOT_ASKED):
            events.append(SlotSet(finding.question, UNSURE))
        dismissed = list(tracker.get_slot("dismissed_flags") or []) + [finding.flag]
        return events + [SlotSet("dismissed_flags", dismissed)] + resume


def _checked_finding(tracker: Tracker) -> Finding:
    """The flag under confirmation, rebuilt from safety_flags (its words and answer)."""
    flag = tracker.get_slot("safety_check_flag")
    for record_ in reversed(tracker.get_slot("safety_flags") or []):
        if record_.get("flag") == flag:
            return Finding(
                RED_FLAG,
                flag,
                record_.get("words", ""),
                False,
                record_.get("question"),
                record_.get("value"),
                flag in _age_dependent_flags(),
            )
    raise ValueError(f"no recorded safety flag {flag!r} to confirm")


def _age_dependent_flags() -> set:
    return {f.id for f in load_safety_net().flags if f.needs_age}
