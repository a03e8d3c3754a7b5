"""The consultation request (``consultation_form``): name, a phone number or email,
preferred times and consent to be contacted; stored for the clinic's staff."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import consent
from actions import tracker_utils as tu
from actions.outcome import consultation_offer_buttons
from actions.questions import answer
from actions.safety_findings import record_mentions
from clinical import consultation_store
from clinical.contact import parse_contact
from clinical.knowledge import knowledge, question_part
from clinical.reading import asks_something, starts_like_a_question
from clinical.rules import evaluate
from clinical.typed_answers import leading_yes_no, refuses

logger = logging.getLogger(__name__)

CONTACT_SLOTS = tu.CONTACT_SLOTS
NAME_PREFIX_RE = re.compile(
    r"^(?:(?:hi|hello|hey|thanks|thank you|ok|okay|sure|yes|yeah)[,!.]?\s+)*"
    r"(?:(?:my name is|my name's|name's|the name's|name is|i am|i'm|im|it's|its|this is|call me|you can call me|"
    r"name:)(?:\s+|$))?",
    re.I,
)
NAME_SUFFIX_RE = re.compile(r"\s+(?:here|thanks|thank you|please)[.!]*$", re.I)
# (button title in the clinic's language, the value stored for staff). Every patient text of
# this module is in the wording catalogue (clinical/wording/<language>.yml, "consultation.").
TIME_CHOICES = [
    (tu.say(f"consultation.time_buttons.{value.replace(' ', '_')}"), value)
    for value in ("weekday mornings", "weekday afternoons", "evenings", "weekends", "any time")
]
MAX_FREE_TEXT = 200
# Knowledge-base entries about booking itself: a booking request matched to them is a booking.
BOOKING_ENTRIES = ("booking", "consultation", "what_to_bring")
GIVE_UP_TEXT = tu.say("consultation.give_up")


def parse_name(text: str) -> str | None:
    name = NAME_SUFFIX_RE.sub("", NAME_PREFIX_RE.sub("", (text or "").strip(), count=1)).strip(" .!,")
    if not name or len(name) > 100 or "@" in name or tu.is_payload_syntax(name):
        return None
    if not re.search(r"[^\W\d_]", name) or len(re.findall(r"\d", name)) > 0:
        return None
    return name


class AskContactSlot(Action):
    """Asks for one detail of the consultation request; subclassed per slot below."""

    slot: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    def name(self) -> str:
        return f"action_ask_{self.slot}" if self.slot else "action_ask_contact_base"

    def run(self, dispatcher, tracker, domain) -> list[EventType]:
        dispatcher.utter_message(
            text=tu.say(f"consultation.ask.{self.slot}"), buttons=[tu.button(t, v) for t, v in self.choices]
        )
        return []


class AskContactName(AskContactSlot):
    slot = "contact_name"


class AskContactDetails(AskContactSlot):
    slot = "contact_details"


class AskContactTimes(AskContactSlot):
    slot = "contact_times"
    choices = tuple(TIME_CHOICES)


class AskContactConsent(Action):
    def name(self) -> str:
        return "action_ask_contact_consent"

    def run(self, dispatcher, tracker, domain) -> list[EventType]:
        s = tu.settings()
        dispatcher.utter_message(
            text=consent.contact_consent_text(s.clinic_name, tracker.get_slot("contact_details"), s.language),
            buttons=tu.yes_no_buttons(),
            **{consent.METADATA_KEY: consent.CONTACT_CONSENT_VERSION},
        )
        return []


class ValidateConsultationForm(Action):
    def name(self) -> str:
        return "validate_consultation_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slot = tracker.get_slot("requested_slot")
        if slot not in CONTACT_SLOTS or tracker.active_loop.get("name") != "consultation_form":
            return []
        free_text = slot in ("contact_name", "contact_details", "contact_times")
        if tu.is_free_text_interruption(tracker) if free_text else tu.is_interruption(tracker):
            return []
        text = tu.latest_text(tracker).strip()
        if free_text and not tu.is_payload_syntax(text) and starts_like_a_question(text) and asks_something(text):
            # "is it ok to bring my dog?" is no name or time, whatever the classifier heard:
            # it is answered (or passed to the clinic) and the detail is asked again.
            return answer(dispatcher, tracker, question_part(text)) + [SlotSet(slot, None)]
        choice = tu.button_value(tracker)
        if tu.is_forged_payload(tracker):
            dispatcher.utter_message(text=tu.say("consultation.not_an_option"))
            return [SlotSet(slot, None)]
        if slot in ("contact_name", "contact_details") and not choice and refuses(text):
            # "no", "never mind, I don't want to give my number": never stored as a name or a
            # number. The request ends here (action_submit_consultation saves nothing without
            # consent and says how to reach the clinic); every other answer is kept.
            dispatcher.utter_message(text=tu.say("consultation.refused"))
            return [SlotSet(slot, None), SlotSet("retry_question", None), SlotSet("requested_slot", None)]
        mentioned = self._red_flags_mentioned(dispatcher, tracker)
        if mentioned:
            # The red flag is recorded for the practitioner; the detail is asked again on
            # its own, so a name or a time is never stored with health words in it.
            return mentioned + [SlotSet(slot, None)]
        value, problem = getattr(self, f"_{slot}")(text, choice, tu.effective_intent(tracker))
        if value is not None:
            return [SlotSet(slot, value), SlotSet("retry_question", None)]
        if tracker.get_slot("retry_question") == slot:
            # Asked twice: no loop. The request stops here, with the clinic's own booking
            # details (action_submit_consultation saves nothing without consent).
            dispatcher.utter_message(text=GIVE_UP_TEXT)
            return [SlotSet(slot, None), SlotSet("retry_question", None), SlotSet("requested_slot", None)]
        dispatcher.utter_message(text=problem)
        return [SlotSet(slot, None), SlotSet("retry_question", slot)]

    @staticmethod
    def _red_flags_mentioned(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """A refer-tier red flag mentioned while booking ("it's Sam, my lip has gone numb"):
        recorded and acknowledged like anywhere else (the urgent ones never get here: the
        NLU sends them to the safety net)."""
        events = record_mentions(dispatcher, tracker)
        if not events:
            return []
        recorded = {e["name"]: e["value"] for e in events if e.get("name") in tu.questionnaire().ids}
        answers = tu.questionnaire().normalise({**tu.answers_from(tracker), **recorded})
        result = evaluate(answers, tu.settings().rule_overrides)
        return events + tu.outcome_events(result.outcome, result.reasons)

    @staticmethod
    def _contact_name(text: str, choice: str | None, intent: str):
        name = parse_name(text)
        return name, tu.say("consultation.problem.contact_name")

    @staticmethod
    def _contact_details(text: str, choice: str | None, intent: str):
        parsed = parse_contact(text, tu.settings().region)
        if parsed is None:
            return None, tu.say("consultation.problem.contact_details")
        return parsed[1], ""

    @staticmethod
    def _contact_times(text: str, choice: str | None, intent: str):
        if choice:
            return choice, ""
        if not text or len(text) > MAX_FREE_TEXT:
            return None, tu.say("consultation.problem.contact_times", limit=MAX_FREE_TEXT)
        return text, ""

    @staticmethod
    def _contact_consent(text: str, choice: str | None, intent: str):
        answer = tu.yes_or_no(choice, intent)
        return answer, "" if answer is not None else tu.say("consultation.problem.contact_consent")


class SubmitConsultation(Action):
    def name(self) -> str:
        return "action_submit_consultation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("contact_consent") is not True:
            dispatcher.utter_message(text=tu.say("consultation.not_saved"))
            return (
                [SlotSet(k, None) for k in CONTACT_SLOTS]
                + [SlotSet("consultation_requested", False)]
                + after_request(dispatcher, tracker)
            )
        contact = tracker.get_slot("contact_details")
        kind, _ = parse_contact(contact, tu.settings().region) or ("phone", contact)
        try:
            consultation_store.save_request(
                conversation_id=tracker.sender_id,
                name=tracker.get_slot("contact_name"),
                contact=contact,
                contact_kind=kind,
                preferred_times=tracker.get_slot("contact_times"),
                outcome=tracker.get_slot("screening_outcome"),
                reasons=tracker.get_slot("screening_reasons"),
                request_reason=tracker.get_slot("request_reason") or "screening",
                consent_at=consent.answered_at(tracker.events, "contact_consent"),
                consent_wording=consent.wording_shown(tracker.events, "contact_consent")
                or consent.CONTACT_CONSENT_VERSION,
            )
        except Exception:  # the database is down: say so, never pretend it worked
            logger.exception("Could not store a consultation request")
            dispatcher.utter_message(text=tu.say("consultation.store_failed"))
            return [SlotSet("consultation_requested", False)] + after_request(dispatcher, tracker)
        dispatcher.utter_message(text=tu.say("consultation.submitted", name=tracker.get_slot("contact_name")))
        return [SlotSet("consultation_requested", True)] + after_request(dispatcher, tracker)


def after_request(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """A call back asked for mid-questionnaire: the questionnaire resumes where it was."""
    events: list[EventType] = [
        SlotSet(slot, None) for slot in ("request_reason", "callback_resume") if tracker.get_slot(slot) is not None
    ]
    resume = tracker.get_slot("callback_resume")
    if resume == "screening_form":
        dispatcher.utter_message(text=tu.reply("questions_resume"))
        events.append(FollowupAction(resume))
    return events


class DeclineConsultation(Action):
    def name(self) -> str:
        return "action_decline_consultation"

    def run(self, dispatcher, tracker, domain) -> list[EventType]:
        dispatcher.utter_message(text=tu.say("consultation.declined"))
        return [SlotSet("consultation_requested", False)]


class OfferConsultation(Action):
    """The consultation offer again, after a reply that was neither yes nor no; a second
    such reply is taken as "not now" (the offer stays open: booking instructions given)."""

    def name(self) -> str:
        return "action_offer_consultation"

    def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = tu.latest_text(tracker)
        if tu.latest_intent(tracker) == tu.OUT_OF_SCOPE and tu.looks_like_a_question(text):
            # "can I fly after it?" is a question, not a reply to the offer: it is passed to
            # the clinic, and the offer stays open.
            return answer(dispatcher, tracker, question_part(text))
        if tracker.get_slot("consultation_requested") is not None:
            return DeclineConsultation().run(dispatcher, tracker, domain)
        if tracker.get_slot("retry_question") == "consultation_offer":
            dispatcher.utter_message(text=tu.say("consultation.taken_as_no"))
            return [SlotSet("consultation_requested", False), SlotSet("retry_question", None)]
        dispatcher.utter_message(text=tu.say("consultation.offer_again"), buttons=consultation_offer_buttons())
        return [SlotSet("retry_question", "consultation_offer")]


class BookConsultation(Action):
    """A request to book at any point: only after a screening that was not urgent."""

    def name(self) -> str:
        return "action_book_consultation"

    def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = tu.latest_text(tracker)
        if not tu.is_payload_syntax(text):
            # A second opinion: the classifier hears some questions as "book" ("botox for
            # headaches, how do I get it"). When the knowledge base is sure another of its
            # answers fits, that answer is given instead.
            match = knowledge().match(question_part(text))
            if match.entry is not None and match.entry.id not in BOOKING_ENTRIES:
                dispatcher.utter_message(text=match.entry.text_for(tu.settings()))
                return []
            if match.entry is None and match.unknown_words and asks_something(text):
                # "is it ok to take my pet snake to the appointment?": a question the
                # knowledge base has no answer to, not a request to book; passed to the clinic.
                return answer(dispatcher, tracker, question_part(text))
        status = tracker.get_slot("screening_status")
        if status == "urgent_stop":
            dispatcher.utter_message(text=tu.say("consultation.urgent_first"))
            return []
        if status == "completed":
            return [FollowupAction("consultation_form")]
        if status == "awaiting_confirmation" and leading_yes_no(tu.latest_text(tracker)) == "yes":
            return [FollowupAction("action_give_outcome")]  # "yes, send me the booking link"
        if status in ("awaiting_confirmation", "choosing_change"):
            dispatcher.utter_message(text=tu.say("consultation.summary_first"))
            return []
        dispatcher.utter_message(text=tu.say("consultation.book_directly"))
        return []
