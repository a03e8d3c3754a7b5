"""The end of the questionnaire: the summary to confirm or correct, then the outcome."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from actions.safety_findings import mentioned_flags
from clinical.answers import find_corrections
from clinical.questionnaire import NOT_ASKED
from clinical.rules import EMERGENCY, SAME_DAY, URGENT_CARE, evaluate, tmd_screener_score
from clinical.typed_answers import read_summary_reply

# Every text is in the wording catalogue (clinical/wording/<language>.yml, "summary." and "outcome.").
KEPT_AS_THEY_ARE = tu.say("summary.kept_as_they_are")
SECTION_BUTTONS = [
    (tu.say(f"summary.section_buttons.{section}"), section)
    for section in ("red_flags", "symptoms", "pregnancy", "medical_history")
]
CONFIRM_BUTTONS = [
    {"title": tu.say("summary.confirm_button"), "payload": "/affirm"},
    {"title": tu.say("summary.change_button"), "payload": "/change_answer"},
]


def change_section_payload(section: str) -> str:
    return "/redo_section" + json.dumps({"section": section})


# Typed choices of a section ("redo the symptom questions").
SECTION_WORDS = [
    ("red_flags", ("safety", "red flag", "warning", "age", "emergency", "how old")),
    (
        "symptoms",
        (
            "symptom",
            "pain",
            "grind",
            "clench",
            "click",
            "lock",
            "how long",
            "stiff",
            "chew",
            "headache",
            "tried",
            "splint",
            "guard",
        ),
    ),
    ("pregnancy", ("pregnan", "breastfeed", "breast feed")),
    (
        "medical_history",
        (
            "health",
            "medic",
            "history",
            "allerg",
            "inhaler",
            "tablet",
            "pill",
            "heart",
            "surgery",
            "botox",
            "blood",
            "asthma",
            "drug",
        ),
    ),
]


class ShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], answers: dict[str, Any] = None
    ) -> list[EventType]:
        answers = answers if answers is not None else tu.answers_from(tracker)
        lines = tu.questionnaire().summary_lines(answers)
        dispatcher.utter_message(
            text=tu.say("summary.heading") + "\n" + "\n".join(lines), json_message=summary_custom(answers)
        )
        dispatcher.utter_message(text=tu.say("summary.confirm"), buttons=CONFIRM_BUTTONS)
        return [SlotSet("screening_status", "awaiting_confirmation")]


def summary_custom(answers: dict[str, Any]) -> dict[str, Any]:
    """The summary by section, for the website widget to show as groups that open and close
    (the text has the same lines, in the same order, as one list)."""
    questionnaire = tu.questionnaire()
    sections = []
    for _, section in SECTION_BUTTONS:
        items = [
            {"question": q.summary, "answer": q.label_for(answers.get(q.id))}
            for q in questionnaire.questions
            if q.section == section and answers.get(q.id) not in (None, NOT_ASKED)
        ]
        if items:
            sections.append({"id": section, "title": tu.section_title(section), "items": items})
    return {"kind": "summary", "heading": tu.say("summary.heading"), "sections": sections}


class AskWhatToChange(Action):
    def name(self) -> str:
        return "action_ask_what_to_change"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(
            text=tu.say("summary.which_part"),
            buttons=[{"title": t, "payload": change_section_payload(s)} for t, s in SECTION_BUTTONS]
            + [{"title": tu.say("summary.nothing_button"), "payload": "/deny"}],
        )
        # Its own status, so "no", "nothing" or "it's all fine" here go back to the summary
        # (data/rules.yml) instead of asking this again.
        return [SlotSet("screening_status", "choosing_change"), SlotSet("retry_question", None)]


class ChangeSection(Action):
    """Clears one section's answers so the screening form asks them again."""

    def name(self) -> str:
        return "action_change_section"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        section = self._chosen_section(tracker)
        if section is None:
            # The rule goes on to the questionnaire, which has nothing to ask and shows
            # the summary again: a way on, not the same question again.
            dispatcher.utter_message(text=tu.say("summary.unclear_section"))
            return []
        # screening_status stays as it is until the form takes over: the rule that
        # brought us here continues with the form only while the status is unchanged.
        return self.clear(section)

    @staticmethod
    def clear(section: str) -> list[EventType]:
        cleared = [SlotSet(q.id, None) for q in tu.questionnaire().questions if q.section == section]
        return cleared + [SlotSet("retry_question", None), *tu.outcome_events(None, None)]

    @staticmethod
    def _chosen_section(tracker: Tracker) -> Any:
        text = tu.latest_text(tracker).strip()
        if tu.is_payload_syntax(text):
            offered = tu.offered_payloads(tracker)
            return next(
                (
                    section
                    for _, section in SECTION_BUTTONS
                    if text == change_section_payload(section) and text in offered
                ),
                None,
            )
        lowered = text.lower()
        return next((section for section, words in SECTION_WORDS if any(w in lowered for w in words)), None)


class ApplyCorrection(Action):
    """A typed reply at the summary or at "which part would you like to change?": a
    correction ("actually I'm breastfeeding", a red flag mentioned now), a yes ("looks
    good"), a wish to change something ("the age is wrong"), a section, or nothing
    readable. Every branch moves on: data/rules.yml lists where each one goes."""

    def name(self) -> str:
        return "action_apply_correction"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        questionnaire = tu.questionnaire()
        answers = tu.answers_from(tracker)
        changes = find_corrections(
            questionnaire.questions, answers, tu.our_entities(tracker), tu.latest_text(tracker), statement=True
        )
        flags = mentioned_flags(tracker, answers)
        changes.update(flags.answers)
        if changes:
            return self._apply(dispatcher, tracker, domain, changes, answers) + flags.events
        if tracker.get_slot("screening_status") == "choosing_change":
            section = ChangeSection._chosen_section(tracker)
            if section:
                return ChangeSection.clear(section) + [FollowupAction("screening_form")]
            dispatcher.utter_message(text=tu.say("summary.nothing_changed"))
            return ShowSummary().run(dispatcher, tracker, domain)
        reading = read_summary_reply(tu.latest_text(tracker))
        if reading == "confirm":
            return [SlotSet("retry_question", None), FollowupAction("action_give_outcome")]
        if reading == "change":  # the rule asks which part
            return [SlotSet("retry_question", None), SlotSet("screening_status", "choosing_change")]
        if tracker.get_slot("retry_question") == "summary":
            # A second reply at the summary that reads as nothing: keep the answers
            # as they are (the practitioner goes through them) rather than ask again.
            dispatcher.utter_message(text=KEPT_AS_THEY_ARE)
            return [SlotSet("retry_question", None), FollowupAction("action_give_outcome")]
        dispatcher.utter_message(text=tu.say("summary.unclear_change"))
        return [SlotSet("retry_question", "summary")] + ShowSummary().run(dispatcher, tracker, domain)

    @staticmethod
    def _apply(dispatcher, tracker, domain, changes: dict[str, Any], answers: dict[str, Any]) -> list[EventType]:
        questionnaire = tu.questionnaire()
        events: list[EventType] = []
        for qid, value in changes.items():
            dispatcher.utter_message(text=tu.updated_answer_text(questionnaire.get(qid), value))
            events.append(SlotSet(qid, value))
        updated = questionnaire.normalise({**answers, **changes})
        if questionnaire.next_question(updated) or evaluate(updated, tu.settings().rule_overrides).stops_questionnaire:
            # The correction opened a question (a new age makes the over-50 question apply)
            # or raised a red flag: back to the questionnaire, which asks or stops at once.
            return events + [FollowupAction("screening_form")]
        return (
            events + [SlotSet("retry_question", None)] + ShowSummary().run(dispatcher, tracker, domain, answers=updated)
        )


def give_outcome(dispatcher: CollectingDispatcher, answers: dict[str, Any]) -> list[EventType]:
    """Explains the outcome of these answers and returns the slots that record it. Also
    used by the safety net, which stops at a red flag from any point of the conversation."""
    settings = tu.settings()
    answers = tu.questionnaire().normalise(answers)
    result = evaluate(answers, settings.rule_overrides, settings.emergency_advice)
    reasons = result.explanations()
    if result.outcome == URGENT_CARE:
        GiveOutcome._urgent(dispatcher, result.urgent_tier, reasons)
        status = "urgent_stop"
    else:
        GiveOutcome._non_urgent(dispatcher, result.outcome, reasons)
        status = "completed"
    return [
        *tu.outcome_events(result.outcome, result.reasons),
        SlotSet("tmd_screener_score", tmd_screener_score(answers)),
        SlotSet("screening_status", status),
    ]


def urgent_action(tier: Any) -> str:
    """What to do now for an urgent tier: the emergency number, or a same-day doctor."""
    if tier == EMERGENCY:
        return tu.say("outcome.urgent_care.emergency_action")
    return tu.settings().same_day_advice


class GiveOutcome(Action):
    """Works out the outcome from the answers and explains it in plain words."""

    def name(self) -> str:
        return "action_give_outcome"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return give_outcome(dispatcher, tu.answers_from(tracker))

    @staticmethod
    def _urgent(dispatcher: CollectingDispatcher, tier: Any, reasons: list[str]) -> None:
        level = EMERGENCY if tier == EMERGENCY else SAME_DAY
        # Same-day advice is the clinic's own text (clinic.yml): it names no number we can
        # vouch for as a tap-to-call, so only the emergency number is offered to tap.
        dispatcher.utter_message(
            text=f"{urgent_action(tier)}\n\n" + "\n".join(reasons[:1]),
            json_message=tu.alert(level, tu.emergency_calls() if level == EMERGENCY else []),
        )
        dispatcher.utter_message(text=tu.say("outcome.urgent_care.closing"), json_message={"call": tu.clinic_calls()})

    @staticmethod
    def _non_urgent(dispatcher: CollectingDispatcher, outcome: str, reasons: list[str]) -> None:
        opening = tu.say(f"outcome.{outcome}.opening")
        text = opening
        if reasons:
            text += "\n" + tu.bullet_list(reasons)
        blocks = tu.text_blocks(text)
        dispatcher.utter_message(text=text, json_message={"blocks": blocks} if blocks else None)
        advice = tu.say(f"outcome.{outcome}.advice")
        dispatcher.utter_message(text=advice + " " + tu.say("outcome.not_a_diagnosis"))
        dispatcher.utter_message(text=tu.say("outcome.offer_consultation"), buttons=consultation_offer_buttons())


def consultation_offer_buttons() -> list[dict[str, str]]:
    return [
        {"title": tu.say("buttons.yes_please"), "payload": "/affirm"},
        {"title": tu.say("buttons.no_thanks"), "payload": "/deny"},
    ]
