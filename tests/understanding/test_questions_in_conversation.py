"""Questions and "talk to a person" at each point of a real conversation, through the
trained assistant (model, rules, forms and actions in process): the pending question comes
back, the summary and the booking form carry on, a call back is stored with its reason and
the questionnaire resumes, and an urgent outcome gets its advice first and no call-back form.
"""

from __future__ import annotations

import uuid

import pytest

from clinical import consultation_store
from clinical.clinic import load_clinic_settings
from clinical.knowledge import knowledge, replies
from tests.understanding.corpus import _position

pytestmark = pytest.mark.understanding

SETTINGS = load_clinic_settings()
NO_ANSWER = " ".join(replies()["no_checked_answer"].split())
# A question no entry answers, and one that an entry does (neither is in any training data).
UNANSWERABLE = "is it ok to take my pet snake to the appointment?"
COST_TEXT = " ".join(knowledge().get("cost").text_for(SETTINGS).split())


def said(messages) -> str:
    return " ".join(" ".join((m.get("text") or "").split()) for m in messages)


def new_sender() -> str:
    return f"conv-{uuid.uuid4().hex[:8]}"


def started(assistant) -> str:
    sender = new_sender()
    assistant.say(sender, "hi")
    assistant.say(sender, "yes")
    assert assistant.slots(sender)["requested_slot"] == "rf_emergency"
    return sender


def test_a_question_mid_questionnaire_is_answered_and_the_question_comes_back(assistant):
    sender = started(assistant)
    reply = assistant.say(sender, "sorry, what would it cost me?")
    assert COST_TEXT in said(reply)
    assert assistant.slots(sender)["requested_slot"] == "rf_emergency"
    assert assistant.slots(sender)["rf_emergency"] is None
    assert reply[-1].get("buttons")  # the pending question again, with its buttons


def test_an_unanswerable_question_is_passed_on_with_where_it_was_asked(assistant):
    sender = started(assistant)
    reply = assistant.say(sender, UNANSWERABLE)
    assert NO_ANSWER in said(reply)
    slots = assistant.slots(sender)
    assert [(q["words"], q["context"]) for q in slots["unanswered_questions"]] == [(UNANSWERABLE, "rf_emergency")]
    assert slots["requested_slot"] == "rf_emergency"


def test_a_question_at_the_summary_keeps_the_summary_waiting(assistant):
    sender = new_sender()
    assistant.say(sender, "hi")
    _position(assistant, sender, "summary", {})
    reply = assistant.say(sender, "what does it cost?")
    assert COST_TEXT in said(reply)
    assert assistant.slots(sender)["screening_status"] == "awaiting_confirmation"


def test_a_question_in_the_booking_form_then_the_detail_is_asked_again(assistant):
    sender = new_sender()
    assistant.say(sender, "hi")
    _position(assistant, sender, "contact_name", {})
    reply = assistant.say(sender, UNANSWERABLE)
    assert NO_ANSWER in said(reply)
    assert assistant.slots(sender)["requested_slot"] == "contact_name"
    assert assistant.slots(sender)["contact_name"] is None


def test_a_person_and_a_call_back_mid_questionnaire_then_the_questions_resume(assistant, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'requests.db'}"
    monkeypatch.setenv("CONSULTATION_DB_URL", url)
    sender = started(assistant)
    offer = assistant.say(sender, "can I talk to a real person please")
    text = said(offer)
    assert SETTINGS.phone in text and SETTINGS.opening_hours in text
    assert [b["payload"] for m in offer for b in m.get("buttons") or []][:1] == ["/request_callback"]
    assert assistant.slots(sender)["person_requested"] is True

    assistant.say(sender, "/request_callback")
    assert assistant.slots(sender)["requested_slot"] == "contact_name"
    assistant.say(sender, "Dana Testperson")
    assistant.say(sender, "020 7946 0123")
    assistant.say(sender, "weekday mornings")
    resumed = assistant.say(sender, "yes")
    assert [r["request_reason"] for r in consultation_store.list_requests(url)] == ["asked_for_person"]
    assert replies()["questions_resume"] in said(resumed)
    slots = assistant.slots(sender)
    assert slots["requested_slot"] == "rf_emergency" and slots["rf_emergency"] is None


def test_after_an_urgent_outcome_the_advice_comes_first_and_no_call_back_form(assistant):
    sender = started(assistant)
    assistant.say(sender, "I have crushing chest pain right now")
    assert assistant.slots(sender)["screening_status"] == "urgent_stop"
    reply = assistant.say(sender, "I want to speak to somebody at the clinic")
    text = said(reply)
    assert text.index(f"call {SETTINGS.emergency_number}") < text.index(SETTINGS.phone)
    assert not [b for m in reply for b in m.get("buttons") or []]
    assert assistant.slots(sender).get("requested_slot") is None
