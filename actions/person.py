"""Reaching a person at the clinic, at any point: the clinic's details and opening hours,
and a call back (the consultation request form, reason "asked for a person").

After an urgent outcome there is no booking and no call-back form (reference section 1):
the urgent advice comes first, then the clinic's number.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from actions.outcome import urgent_action
from clinical.rules import evaluate

ASKED_FOR_PERSON = "asked_for_person"
LOOPS_TO_RESUME = ("screening_form",)


def urgent(tracker: Tracker) -> bool:
    return tracker.get_slot("screening_status") == "urgent_stop"


def say_urgent_contact(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    settings = tu.settings()
    tier = evaluate(tu.questionnaire().normalise(tu.answers_from(tracker)), settings.rule_overrides).urgent_tier
    dispatcher.utter_message(text=urgent_action(tier))
    dispatcher.utter_message(text=tu.reply("person_contact_urgent"))


def offer_person(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """How to reach the clinic and the offer of a call back; after an urgent outcome the
    urgent advice first and no call back."""
    events: list[EventType] = [SlotSet("person_requested", True)]
    if urgent(tracker):
        say_urgent_contact(dispatcher, tracker)
        return events
    text = tu.reply("person_contact")
    if (tracker.active_loop or {}).get("name") == "consultation_form":
        # Already taking their details for a call back: no second offer.
        dispatcher.utter_message(text=text)
        return events
    dispatcher.utter_message(
        text=f"{text}\n\n{tu.reply('callback_offer')}",
        buttons=[{"title": tu.reply("callback_button"), "payload": "/request_callback"}],
    )
    return events


class OfferPerson(Action):
    """ "I want to talk to someone": how to reach the clinic, and the offer of a call back.
    A form in progress asks its pending question again afterwards (data/rules.yml)."""

    def name(self) -> str:
        return "action_offer_person"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return offer_person(dispatcher, tracker)


class RequestCallback(Action):
    """ "Call me back": the consultation request form, marked as a wish to talk to a
    person; the questionnaire under way resumes after it (actions/consultation.py)."""

    def name(self) -> str:
        return "action_request_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SlotSet("person_requested", True), SlotSet("request_reason", ASKED_FOR_PERSON)]
        if urgent(tracker):
            say_urgent_contact(dispatcher, tracker)
            return events
        loop = (tracker.active_loop or {}).get("name")
        if loop == "consultation_form":
            return events  # the form goes on; the request is now marked as a call back
        dispatcher.utter_message(text=tu.reply("callback_start"))
        resume = loop if loop in LOOPS_TO_RESUME else None
        fresh = [SlotSet(slot, None) for slot in tu.CONTACT_SLOTS]  # a second request asks again
        return events + fresh + [SlotSet("callback_resume", resume), FollowupAction("consultation_form")]
