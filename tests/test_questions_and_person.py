"""Patients' questions (actions/questions.py) and reaching a person (actions/person.py), as
the action server runs them: trackers made with Tracker.from_dict, a CollectingDispatcher."""

from __future__ import annotations

import json

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import tracker_utils as tu
from actions.consultation import BookConsultation, SubmitConsultation
from actions.person import OfferPerson, RequestCallback
from actions.questions import AnswerQuestion, answer_if_asked, suggestion_payload, where_asked
from clinical import consultation_store
from clinical.knowledge import knowledge, question_part, replies
from clinical.typed_answers import asks_something, leading_yes_no
from tests.test_actions import (
    CLEAR_ANSWERS,
    SETTINGS,
    all_buttons,
    all_text,
    answers_until,
    make_tracker,
    run,
    screening,
    slot_values,
    texts,
)

KB = knowledge()
NO_ANSWER = " ".join(replies()["no_checked_answer"].split())


def asked(text: str, **kwargs):
    return run(AnswerQuestion(), make_tracker(text, "ask_question", **kwargs))


def test_a_question_gets_its_entry_and_nothing_is_recorded():
    events, dispatcher = asked("how much does it cost?")
    assert texts(dispatcher) == [KB.get("cost").text_for(SETTINGS)]
    assert SETTINGS.cost_text in all_text(dispatcher)
    assert events == []


def test_a_question_with_no_checked_answer_says_so_and_is_passed_to_the_clinic():
    events, dispatcher = asked(
        "can I play the trombone in an orchestra the week after?",
        slots={"unanswered_questions": [{"words": "earlier", "at": 1.0, "context": None}]},
        loop="screening_form",
    )
    assert " ".join(texts(dispatcher)[0].split()) == NO_ANSWER
    unanswered = slot_values(events)["unanswered_questions"]
    assert [u["words"] for u in unanswered] == ["earlier", "can I play the trombone in an orchestra the week after?"]
    assert isinstance(unanswered[-1]["at"], float)


def test_the_words_kept_for_staff_are_capped():
    events, _ = asked("can I take my trombone " + "la " * 400 + "?")
    assert len(slot_values(events)["unanswered_questions"][0]["words"]) == 500


@pytest.mark.parametrize(
    "loop, slots, expected",
    [
        ("screening_form", {"requested_slot": "patient_age"}, "patient_age"),
        ("consent_form", {}, "consent"),
        ("consultation_form", {"requested_slot": "contact_name"}, "booking"),
        (None, {"screening_status": "awaiting_confirmation"}, "summary"),
        (None, {"screening_status": "completed"}, "outcome"),
        (None, {}, None),
    ],
)
def test_where_a_question_was_asked_is_kept_for_staff(loop, slots, expected):
    assert where_asked(make_tracker("q", "ask_question", loop=loop, slots=slots)) == expected


def test_yes_with_a_question_at_the_summary_answers_and_confirms():
    events, dispatcher = asked(
        "yes - how long does it last?", slots={**CLEAR_ANSWERS, "screening_status": "awaiting_confirmation"}
    )
    assert texts(dispatcher) == [KB.get("duration").text_for(SETTINGS)]
    assert {"event": "followup", "timestamp": None, "name": "action_give_outcome"} in events


@pytest.mark.parametrize(
    "text, part",
    [
        ("yes - who sees my answers?", "who sees my answers?"),
        ("no. How long does it last?", "How long does it last?"),
        ("no, is it safe when breastfeeding?", "is it safe when breastfeeding?"),
        ("how long does it last", "how long does it last"),
        ("does it hurt?", "does it hurt?"),
    ],
)
def test_the_question_part_of_an_answer(text, part):
    assert question_part(text) == part


def test_an_answer_that_also_asks_gets_the_question_answered():
    tracker = make_tracker("yes - who sees my answers?", "ask_question", loop="consent_form")
    dispatcher = CollectingDispatcher()
    assert answer_if_asked(dispatcher, tracker) == []
    assert texts(dispatcher) == [KB.get("privacy").text_for(SETTINGS)]
    # Not a question intent, or no question mark: nothing extra is said.
    dispatcher = CollectingDispatcher()
    assert answer_if_asked(dispatcher, make_tracker("yes who sees my answers", "ask_question")) == []
    assert answer_if_asked(dispatcher, make_tracker("yes?", "affirm")) == [] and dispatcher.messages == []


# --- reaching a person -------------------------------------------------------------------


def test_asking_for_a_person_gives_the_clinics_details_and_a_call_back():
    events, dispatcher = run(
        OfferPerson(), make_tracker("can I talk to a real person", "ask_for_person", loop="screening_form")
    )
    text = all_text(dispatcher)
    for detail in (SETTINGS.phone, SETTINGS.opening_hours, SETTINGS.email):
        assert detail in text
    assert [b["payload"] for b in all_buttons(dispatcher)] == ["/request_callback"]
    assert slot_values(events) == {"person_requested": True}


def test_in_the_booking_form_the_details_are_given_without_a_second_offer():
    _, dispatcher = run(
        OfferPerson(), make_tracker("can I talk to someone?", "ask_for_person", loop="consultation_form")
    )
    assert SETTINGS.phone in all_text(dispatcher) and all_buttons(dispatcher) == []


URGENT = {
    **CLEAR_ANSWERS,
    "rf_emergency": "chest",
    "screening_status": "urgent_stop",
    "screening_outcome": "urgent_care",
}


@pytest.mark.parametrize("action", [OfferPerson(), RequestCallback()])
def test_after_an_urgent_outcome_the_urgent_advice_comes_first_and_no_call_back(action):
    events, dispatcher = run(action, make_tracker("I want to talk to someone", "ask_for_person", slots=URGENT))
    said = texts(dispatcher)
    assert f"call {SETTINGS.emergency_number} now" in said[0]
    assert SETTINGS.phone in said[1]
    assert all_buttons(dispatcher) == []
    assert not [e for e in events if e.get("event") == "followup"]


def test_a_call_back_mid_questionnaire_takes_the_details_and_remembers_to_resume():
    events, dispatcher = run(
        RequestCallback(),
        make_tracker(
            "/request_callback", "request_callback", loop="screening_form", slots={"contact_name": "Old Name"}
        ),
    )
    slots = slot_values(events)
    assert slots["request_reason"] == "asked_for_person" and slots["callback_resume"] == "screening_form"
    assert slots["contact_name"] is None  # a second request asks for the details again
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "consultation_form"}


def test_a_call_back_in_the_booking_form_only_marks_the_request():
    events, _ = run(RequestCallback(), make_tracker("call me back", "request_callback", loop="consultation_form"))
    assert slot_values(events) == {"person_requested": True, "request_reason": "asked_for_person"}


def test_the_call_back_is_stored_as_asked_for_a_person_and_the_questionnaire_resumes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'requests.db'}"
    monkeypatch.setenv("CONSULTATION_DB_URL", url)
    slots = {
        "contact_name": "Dana Testperson",
        "contact_details": "+447700900123",
        "contact_times": "any time",
        "contact_consent": True,
        "request_reason": "asked_for_person",
        "callback_resume": "screening_form",
        "screening_status": "in_progress",
    }
    events, dispatcher = run(SubmitConsultation(), make_tracker("yes", "affirm", slots=slots))
    assert [r["request_reason"] for r in consultation_store.list_requests(url)] == ["asked_for_person"]
    assert replies()["questions_resume"] in all_text(dispatcher)
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "screening_form"}
    assert slot_values(events)["request_reason"] is None


# --- answers that might help (suggestions below the threshold) ------------------------------


def test_a_near_miss_offers_the_nearest_answers_to_tap_and_gives_none_unasked():
    events, dispatcher = asked("will it wear off faster if i exercise a lot?")
    said = texts(dispatcher)
    assert " ".join(said[0].split()) == NO_ANSWER
    offered = [b["payload"] for b in all_buttons(dispatcher)]
    assert offered and all(p.startswith('/ask_question{"faq_entry": ') for p in offered)
    assert not [e.id for e in KB.entries if e.text_for(SETTINGS) in all_text(dispatcher)]
    unanswered = slot_values(events)["unanswered_questions"][0]
    assert unanswered["suggested"] == [suggestion_id(p) for p in offered]


def suggestion_id(payload: str) -> str:
    return json.loads(payload[len("/ask_question") :])["faq_entry"]


def test_a_tapped_suggestion_gives_that_answer_and_records_nothing():
    offer = [
        {
            "text": "These answers I do have might help:",
            "buttons": [{"title": "Cost", "payload": suggestion_payload("cost")}],
        }
    ]
    events, dispatcher = run(
        AnswerQuestion(), make_tracker(suggestion_payload("cost"), bot=offer, loop="screening_form")
    )
    assert texts(dispatcher) == [KB.get("cost").text_for(SETTINGS)] and events == []
    # Mid-questionnaire the tap interrupts the form (the rules answer, then ask again).
    assert tu.is_interruption(make_tracker(suggestion_payload("cost"), bot=offer, loop="screening_form"))


def test_a_typed_suggestion_payload_that_was_not_offered_means_nothing():
    tracker = make_tracker(suggestion_payload("cost"), loop="screening_form")
    events, dispatcher = run(AnswerQuestion(), tracker)
    assert events == [] and texts(dispatcher) == [replies()["not_offered"]]
    assert not tu.is_interruption(tracker)


# --- a question typed where an answer was expected ---------------------------------------------


@pytest.mark.parametrize(
    "text, intent",
    [
        ("I have a filling booked for 2 days after, is that ok", "affirm"),
        ("i have invisalign, can i keep wearing my aligners after the jabs", "inform"),
    ],
)
def test_a_question_at_a_safety_question_is_never_read_as_a_yes(text, intent):
    events, dispatcher = screening(text, intent, pending="rf_emergency", answers=answers_until("rf_emergency"))
    slots = slot_values(events)
    assert slots.get("rf_emergency") is None and slots["requested_slot"] == "rf_emergency"
    assert slots.get("screening_status") != "urgent_stop"
    assert NO_ANSWER in " ".join(all_text(dispatcher).split())
    assert slots["unanswered_questions"][0]["context"] == "rf_emergency"


def test_a_plain_statement_is_still_a_yes():
    assert leading_yes_no("I have, most mornings") == "yes" and not asks_something("I have, most mornings")
    assert leading_yes_no("I have a filling booked, is that ok") is None
    assert leading_yes_no("yes, how long does it last?") == "yes"  # an explicit yes stays a yes


def test_a_question_the_classifier_heard_as_booking_gets_its_answer():
    _, dispatcher = run(BookConsultation(), make_tracker("what would it cost me?", "book_consultation"))
    assert texts(dispatcher) == [KB.get("cost").text_for(SETTINGS)]
    _, dispatcher = run(BookConsultation(), make_tracker("can I book an appointment please?", "book_consultation"))
    assert SETTINGS.booking_instructions in all_text(dispatcher)


def test_words_that_ask_for_a_person_win_over_a_question_intent():
    events, dispatcher = asked("i dont want to type all this, can someone just ring me?", loop="screening_form")
    assert SETTINGS.phone in all_text(dispatcher)
    assert [b["payload"] for b in all_buttons(dispatcher)] == ["/request_callback"]
    assert slot_values(events) == {"person_requested": True}


def test_a_wish_for_a_person_interrupts_the_questionnaire_even_without_a_question_mark():
    tracker = make_tracker("the nurse can phone me, my number is on file", "ask_question", loop="screening_form")
    assert tu.is_interruption(tracker, tu.SCREENING_INTERRUPTION_INTENTS)
    assert not tu.is_interruption(
        make_tracker("on and off", "ask_question", loop="screening_form"), tu.SCREENING_INTERRUPTION_INTENTS
    )
