"""Asking the screening questions and validating the answers (``screening_form``).

One generic ask action per question is generated from clinical/questionnaire.yml, and
one validation action interprets each reply, applies corrections, re-asks unclear
answers once, and stops the questionnaire at once when a red flag makes it urgent.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from clinical.answers import find_corrections, interpret, uses_entity
from clinical.questionnaire import NOT_ASKED, UNSURE, Question
from clinical.rules import evaluate

SECTION_INTROS = {
    "red_flags": "",
    "symptoms": "Thank you. Now some questions about your jaw symptoms.",
    "pregnancy": "Thanks. Next, a question we ask everyone.",
    "medical_history": "Nearly there: a few questions about your health and medicines.",
}
CLARIFY = {
    "dont_know": "That's okay. If you can check, please tell me; if you're still not sure, "
                 "choose \"Not sure\" and the practitioner will go through it with you.",
    "out_of_range": "That number doesn't look right for this question.",
    "not_understood": "Sorry, I didn't quite understand. Please choose one of the options, "
                      "or answer in your own words.",
    "payload": "Please choose one of the options shown, or type your answer.",
    "out_of_scope": "I can only help with questions about jaw pain and this treatment.",
}
RECORDED_UNSURE = "No problem, I've noted that you're not sure. The practitioner will go through it with you."


def question_buttons(question: Question) -> List[Dict[str, str]]:
    if question.type == "yes_no":
        return tu.yes_no_buttons(extra_unsure=True)
    buttons = [tu.button(o.label, o.value) for o in question.options]
    if question.type != "number" or question.safety:
        buttons.append(tu.button("Not sure", UNSURE))
    return buttons


class AskQuestionAction(Action):
    """Asks one screening question, with its buttons; subclassed per question below."""

    question_id: Text = ""

    def name(self) -> Text:
        # The generic base class registers under a name no domain uses.
        return f"action_ask_{self.question_id}" if self.question_id else "action_ask_question_base"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        questionnaire = tu.questionnaire()
        question = questionnaire.get(self.question_id)
        answers = tu.answers_from(tracker)
        intro = SECTION_INTROS.get(question.section, "")
        section_started = any(answers.get(q.id) not in (None, NOT_ASKED)
                              for q in questionnaire.questions if q.section == question.section)
        if intro and not section_started and tracker.get_slot("retry_question") != question.id:
            dispatcher.utter_message(text=intro)
        dispatcher.utter_message(text=tu.format_with_settings(question.text),
                                 buttons=question_buttons(question))
        return []


# One ask action class per question, named action_ask_<question id>. Kept in a dict:
# rasa-sdk finds actions through Action.__subclasses__(), which holds only weak
# references, so unreferenced classes could be garbage-collected before registration.
ASK_ACTIONS = {
    q.id: type(f"Ask_{q.id}", (AskQuestionAction,), {"question_id": q.id})
    for q in tu.questionnaire().questions
}


class ValidateScreeningForm(Action):
    """Interprets the reply to the pending question and decides what comes next."""

    def name(self) -> Text:
        return "validate_screening_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        questionnaire = tu.questionnaire()
        answers = tu.answers_from(tracker)
        pending = tracker.get_slot("requested_slot")
        answering = pending in questionnaire.ids and tracker.active_loop.get("name") == "screening_form"
        if answering and tu.is_interruption(tracker, tu.SCREENING_INTERRUPTION_INTENTS) \
                and not self._answers_by_its_words(tracker, questionnaire.get(pending)):
            return []  # let the rules answer; the form then repeats the question
        events: List[EventType] = [SlotSet("screening_status", "in_progress")]

        if answering:
            events += self._handle_reply(dispatcher, tracker, questionnaire.get(pending), answers)

        normalised = questionnaire.normalise(answers)
        # Questions that stopped or started applying (e.g. after an age correction).
        events += [SlotSet(qid, value) for qid, value in normalised.items() if value != answers.get(qid)]
        result = evaluate(normalised, tu.settings().rule_overrides)
        if result.stops_questionnaire:
            return events + [
                SlotSet("screening_status", "urgent_stop"),
                SlotSet("screening_outcome", result.outcome),
                SlotSet("screening_reasons", result.reasons),
                SlotSet("requested_slot", None),
            ]
        following = questionnaire.next_question(normalised)
        if following is None:
            return events + [SlotSet("screening_status", "awaiting_confirmation"),
                             SlotSet("requested_slot", None)]
        return events + [SlotSet("requested_slot", following.id)]

    @staticmethod
    def _answers_by_its_words(tracker: Tracker, question: Question) -> bool:
        """True when the words alone answer the question, whatever the intent:
        "yes, my face feels numb" answers the numbness question even if it sounds
        like a question about side effects."""
        reading = interpret(question, "", tu.our_entities(tracker), tu.latest_text(tracker))
        return reading.understood

    def _handle_reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                      question: Question, answers: Dict[str, Any]) -> List[EventType]:
        """Updates ``answers`` in place and returns the slot events for this reply."""
        entities = tu.our_entities(tracker)
        intent = tu.effective_intent(tracker)
        text = tu.latest_text(tracker)
        events: List[EventType] = []

        if tu.is_forged_payload(tracker):
            reading = None
            reason = "payload"
        else:
            interpretation = interpret(question, intent, entities, text, tu.button_value(tracker))
            reading, reason = interpretation.value, interpretation.unclear_reason
            if reading is None and intent == "out_of_scope":
                reason = "out_of_scope"

        # Corrections to earlier answers ("no, but actually I'm breastfeeding") use only
        # the words the pending question did not use for its own answer.
        others = [q for q in tu.questionnaire().questions if q.id != question.id]
        spare = [e for e in entities if not uses_entity(question, e)]
        for qid, value in find_corrections(others, answers, spare).items():
            answers[qid] = value
            events.append(SlotSet(qid, value))
            dispatcher.utter_message(text=tu.updated_answer_text(tu.questionnaire().get(qid), value))

        if reading is not None:
            answers[question.id] = reading
            return events + [SlotSet(question.id, reading), SlotSet("retry_question", None)]
        if events:
            # The message corrected an earlier answer; ask the pending question again.
            return events + [SlotSet("retry_question", None)]
        if tracker.get_slot("retry_question") == question.id:
            answers[question.id] = UNSURE
            dispatcher.utter_message(text=RECORDED_UNSURE)
            return [SlotSet(question.id, UNSURE), SlotSet("retry_question", None)]
        message = CLARIFY[reason]
        if reason == "out_of_range" and question.minimum is not None:
            message += f" Please give a number from {question.minimum} to {question.maximum}."
        dispatcher.utter_message(text=message)
        return [SlotSet("retry_question", question.id)]
