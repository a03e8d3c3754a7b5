"""The frame of the conversation: session start, consent, stopping, starting over and
the fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from actions import consent
from actions import tracker_utils as tu
from actions.questions import answer, answer_if_asked
from actions.safety_findings import record_mentions
from clinical.knowledge import question_part
from clinical.reading import asks_something
from clinical.typed_answers import leading_yes_no, read_consent

MIN_QUESTION_WORDS = 3  # "what?" is an unclear reply; "is botox vegan" a question
CONSENT_TAKEN_AS_NO = tu.say("consent.taken_as_no")  # texts: clinical/wording/<language>.yml


class SessionStart(Action):
    """Starts a session with the clinic's settings in slots for the responses."""

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        carried = [
            SlotSet(k, v)
            for k, v in tracker.slots.items()
            if v is not None and k not in ("session_started_metadata", "requested_slot")
        ]
        return [SessionStarted(), *carried, *tu.clinic_slot_events(), ActionExecuted("action_listen")]


class AskConsent(Action):
    def name(self) -> str:
        return "action_ask_consent_given"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        s = tu.settings()
        events = self._first_message_question(dispatcher, tracker)
        # The wording version travels in the message's metadata, so the tracker store keeps
        # what the person agreed to with their answer (actions/consent.py).
        dispatcher.utter_message(
            text=consent.screening_consent_text(s.clinic_name, s.emergency_number, s.language),
            buttons=[tu.button(tu.say("consent.agree_button"), "yes"), tu.button(tu.say("buttons.deny"), "no")],
            **{consent.METADATA_KEY: consent.SCREENING_CONSENT_VERSION},
        )
        return events

    @staticmethod
    def _first_message_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """A first message that asks something ("is botox vegan") but that the classifier
        did not hear as a question: answered (or passed to the clinic) before the consent
        question, once (the words decide, as everywhere; a question the rules answered is
        not answered twice)."""
        text = tu.latest_text(tracker)
        if consent.wording_shown(tracker.events, "consent_given") is not None:
            return []
        if tu.latest_intent(tracker) in tu.INTERRUPTION_INTENTS + (tu.OUT_OF_SCOPE,):
            return []  # the rules have answered it (a question, "are you a bot?", a person...)
        if tu.is_payload_syntax(text) or len(text.split()) < MIN_QUESTION_WORDS:
            return []
        if not asks_something(text) or leading_yes_no(text) is not None:
            return []
        return answer(dispatcher, tracker, question_part(text))


class ValidateConsentForm(Action):
    def name(self) -> str:
        return "validate_consent_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("requested_slot") != "consent_given":
            return []
        # The words first: "no, I'd rather not share health details" is a no even if it
        # sounds like "stop"; "yes - who sees my answers?" is a yes and gets its answer.
        consent = self._read(tracker)
        if consent is None and tu.is_interruption(tracker):
            return []  # a question or command for the rules; consent is asked again after
        if tu.latest_intent(tracker) == tu.SAFETY_INTENT:
            return []  # the safety net's rules act first
        if consent is None and self._only_asks(tracker):
            # "is botox vegan", "before I agree, who reads this?": a question, whatever the
            # classifier heard. It gets its answer (or goes to the clinic); consent waits.
            return answer(dispatcher, tracker, question_part(tu.latest_text(tracker))) + [
                SlotSet("consent_given", None)
            ]
        if consent is not None:
            events = [SlotSet("consent_given", consent), SlotSet("retry_question", None)]
            if consent:
                # A red flag mentioned with the yes ("sure. btw I've had loads of
                # nosebleeds"): recorded now that there is consent, not asked again.
                events += record_mentions(dispatcher, tracker)
                events += answer_if_asked(dispatcher, tracker)
            return events
        if tracker.get_slot("retry_question") == "consent_given":
            # Asked twice and still unclear: no health questions without a clear yes.
            dispatcher.utter_message(text=CONSENT_TAKEN_AS_NO)
            return [SlotSet("consent_given", False), SlotSet("retry_question", None)]
        dispatcher.utter_message(text=tu.say("consent.ask_again"))
        return [SlotSet("consent_given", None), SlotSet("retry_question", "consent_given")]

    @staticmethod
    def _only_asks(tracker: Tracker) -> bool:
        """A question of three words or more with no yes or no in front ("what?" alone is
        an unclear reply, asked again, not a question to pass to the clinic)."""
        text = tu.latest_text(tracker)
        if tu.is_payload_syntax(text) or len(text.split()) < MIN_QUESTION_WORDS:
            return False
        return asks_something(text) and leading_yes_no(text) is None

    @classmethod
    def _read(cls, tracker: Tracker) -> Any:
        button = tu.button_value(tracker)
        if button is not None or tu.is_payload_syntax(tu.latest_text(tracker)):
            return tu.yes_or_no(button, tu.effective_intent(tracker))
        if cls._only_asks(tracker):
            return None  # a question is no consent, even with "is that alright" at its end
        typed = read_consent(tu.latest_text(tracker))
        if typed is not None:
            return typed
        return tu.yes_or_no(None, tu.effective_intent(tracker))


class StopScreening(Action):
    def name(self) -> str:
        return "action_stop_screening"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=tu.say("conversation.stopped"))
        events: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if tracker.get_slot("screening_status") in (None, "in_progress", "awaiting_confirmation"):
            events.append(SlotSet("screening_status", "stopped"))
        return events


class StartOver(Action):
    """Clears every answer (the transcript stays for the clinic) and starts again."""

    def name(self) -> str:
        return "action_start_over"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=tu.say("conversation.start_over"))
        return [ActiveLoop(None), AllSlotsReset(), *tu.clinic_slot_events()]


class CoreFallback(Action):
    def name(self) -> str:
        return "action_core_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=tu.say("conversation.fallback"))
        # Like Rasa's default fallback: forget the message so the dialogue state is as
        # before it, and listen again (the transcript keeps it for staff).
        return [UserUtteranceReverted()]
