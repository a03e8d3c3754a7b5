"""Patients' questions: the reviewed answer from the knowledge base, or an honest "I don't
have a checked answer" with the question passed to the clinic (``unanswered_questions``)."""

from __future__ import annotations

import json
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from actions.person import offer_person
from clinical.answers import find_corrections
from clinical.knowledge import knowledge, question_part
from clinical.reading import asks_something
from clinical.typed_answers import leading_yes_no, read_summary_reply, wants_a_person

UNANSWERED_SLOT = "unanswered_questions"
SUGGESTION_ENTITY = "faq_entry"
MAX_WORDS = 500  # what staff see of one question; the transcript keeps the whole message
# Where a question came outside the questionnaire, in the words the portal shows.
PLACES = {
    "consent_form": "consent",
    "consultation_form": "booking",
    "awaiting_confirmation": "summary",
    "choosing_change": "summary",
    "completed": "outcome",
    "urgent_stop": "outcome",
}


def where_asked(tracker: Tracker) -> str | None:
    """Where in the conversation the question came, for staff: the pending questionnaire
    question, or consent / booking / summary / outcome."""
    loop = (tracker.active_loop or {}).get("name")
    if loop == "screening_form":
        return tracker.get_slot("requested_slot")
    return PLACES.get(loop) or PLACES.get(tracker.get_slot("screening_status"))


def answer(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
    """Sends the matching entry's answer; or says there is no checked answer, offers the
    nearest entries as buttons (the patient chooses, nothing is answered unasked) and adds
    the question to the conversation's ``unanswered_questions`` for the clinic."""
    settings = tu.settings()
    match = knowledge().match(text)
    if match.entry is not None:
        dispatcher.utter_message(text=match.entry.text_for(settings))
        return []
    dispatcher.utter_message(text=tu.reply("no_checked_answer"))
    if match.suggestions:
        dispatcher.utter_message(
            text=tu.reply("suggestions"),
            buttons=[{"title": e.topic, "payload": suggestion_payload(e.id)} for e in match.suggestions],
        )
    unanswered = list(tracker.get_slot(UNANSWERED_SLOT) or [])
    unanswered.append(
        {
            "words": text.strip()[:MAX_WORDS],
            "at": time.time(),
            "context": where_asked(tracker),
            "suggested": [e.id for e in match.suggestions],
        }
    )
    return [SlotSet(UNANSWERED_SLOT, unanswered)]


def suggestion_payload(entry_id: str) -> str:
    return f"/{tu.QUESTION_INTENTS[0]}{json.dumps({SUGGESTION_ENTITY: entry_id})}"


def chosen_suggestion(tracker: Tracker) -> str | None:
    """The entry behind a tapped "might help" button; only one the assistant just offered
    counts (a typed payload is never an answer)."""
    entry_id = tu.button_value(tracker, intent=tu.QUESTION_INTENTS[0], entity=SUGGESTION_ENTITY)
    return entry_id if entry_id in knowledge().ids else None


class AnswerQuestion(Action):
    """A question about the treatment or the clinic (intent ask_question, or out_of_scope
    phrased as a question), at any point."""

    def name(self) -> str:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tu.latest_text(tracker)
        chosen = chosen_suggestion(tracker)
        if chosen is not None:
            dispatcher.utter_message(text=knowledge().get(chosen).text_for(tu.settings()))
            return []
        if tu.is_payload_syntax(text):
            # A payload the assistant did not offer chooses nothing; say how to go on.
            dispatcher.utter_message(text=tu.reply("not_offered"))
            return []
        if wants_a_person(text):
            # The classifier heard a question, but the words ask for a person.
            return offer_person(dispatcher, tracker)
        if states_a_correction(tracker, text):
            # "I'm breastfeeding" at the summary: a statement of fact that matches a screening
            # item is never handled as a question; it updates that item and says so.
            return [FollowupAction("action_apply_correction")]
        if tu.latest_intent(tracker) == tu.OUT_OF_SCOPE and not tu.looks_like_a_question(text):
            # Not a question and not about the treatment ("tell me a joke").
            dispatcher.utter_message(text=tu.reply("out_of_scope"))
            return []
        events = answer(dispatcher, tracker, question_part(text))
        if tracker.get_slot("screening_status") == "awaiting_confirmation" and leading_yes_no(text) == "yes":
            # "yes - how long does it last?" at the summary: answered, and confirmed.
            return events + [FollowupAction("action_give_outcome")]
        return events


def states_a_correction(tracker: Tracker, text: str) -> bool:
    """At the summary or while choosing what to change, words that ask nothing and state a
    screening answer ("I'm breastfeeding"), name what is wrong ("my age is wrong") or, while
    choosing, name a part: a reply to the summary, whatever the classifier heard."""
    status = tracker.get_slot("screening_status")
    if status not in ("awaiting_confirmation", "choosing_change") or asks_something(text):
        return False
    if status == "choosing_change" or read_summary_reply(text) is not None:
        return True
    questionnaire = tu.questionnaire()
    answers = tu.answers_from(tracker)
    return bool(find_corrections(questionnaire.questions, answers, tu.our_entities(tracker), text, statement=True))


def answer_if_asked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """An answer that also asks something ("yes - who sees my answers?"): the question gets
    its answer too (or is passed to the clinic)."""
    text = tu.latest_text(tracker)
    if tu.latest_intent(tracker) in tu.QUESTION_INTENTS and "?" in text:
        return answer(dispatcher, tracker, question_part(text))
    return []
