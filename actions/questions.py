"""Patients' questions: the reviewed answer from the knowledge base, or an honest "I don't
have a checked answer" with the question passed to the clinic (``unanswered_questions``)."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from clinical.knowledge import knowledge, question_part, replies
from clinical.typed_answers import leading_yes_no

UNANSWERED_SLOT = "unanswered_questions"
MAX_WORDS = 500  # what staff see of one question; the transcript keeps the whole message
def where_asked(tracker: Tracker) -> Optional[str]:
    """Where in the conversation the question came, for staff: the pending questionnaire
    question, or consent / booking / summary / outcome."""
    loop = (tracker.active_loop or {}).get("name")
    if loop == "screening_form":
        return tracker.get_slot("requested_slot")
    if loop in ("consent_form", "consultation_form"):
        return {"consent_form": "consent", "consultation_form": "booking"}[loop]
    return {"awaiting_confirmation": "summary", "choosing_change": "summary", "completed": "outcome",
            "urgent_stop": "outcome"}.get(tracker.get_slot("screening_status"))


def answer(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> List[EventType]:
    """Sends the matching entry's answer, or says there is no checked answer and adds the
    question to the conversation's ``unanswered_questions`` for the clinic."""
    settings = tu.settings()
    match = knowledge().match(text)
    if match.entry is not None:
        dispatcher.utter_message(text=match.entry.text_for(settings))
        return []
    dispatcher.utter_message(text=replies()["no_checked_answer"].format(**settings.placeholders()).strip())
    unanswered = list(tracker.get_slot(UNANSWERED_SLOT) or [])
    unanswered.append({"words": text.strip()[:MAX_WORDS], "at": time.time(), "context": where_asked(tracker)})
    return [SlotSet(UNANSWERED_SLOT, unanswered)]


class AnswerQuestion(Action):
    """A question about the treatment or the clinic (intent ask_question, or out_of_scope
    phrased as a question), at any point."""

    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        text = tu.latest_text(tracker)
        if tu.latest_intent(tracker) == tu.OUT_OF_SCOPE and not tu.looks_like_a_question(text):
            # Not a question and not about the treatment ("tell me a joke").
            dispatcher.utter_message(text=replies()["out_of_scope"].format(**tu.settings().placeholders()).strip())
            return []
        events = answer(dispatcher, tracker, question_part(text))
        if tracker.get_slot("screening_status") == "awaiting_confirmation" and leading_yes_no(text) == "yes":
            # "yes - how long does it last?" at the summary: answered, and confirmed.
            return events + [FollowupAction("action_give_outcome")]
        return events


def answer_if_asked(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """An answer that also asks something ("yes - who sees my answers?"): the question gets
    its answer too (or is passed to the clinic)."""
    text = tu.latest_text(tracker)
    if tu.latest_intent(tracker) in tu.QUESTION_INTENTS and "?" in text:
        return answer(dispatcher, tracker, question_part(text))
    return []
