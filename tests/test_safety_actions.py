"""The safety net's actions (actions/safety.py), run like the action server runs them:
Tracker.from_dict in, CollectingDispatcher and events out."""

from __future__ import annotations

import pytest
import yaml

from actions import tracker_utils as tu
from actions.safety import AfterSafetyCheck, AskSafetyAnswer, SafetyNet, ValidateSafetyCheckForm
from clinical.clinic import load_clinic_settings
from tests.test_actions import CLEAR_ANSWERS, all_text, answers_until, make_tracker, run, screening, slot_values, texts

SAFETY_INTENT = "safety_concern"
CRISIS = load_clinic_settings().crisis_contacts


def test_distress_during_the_questionnaire_gives_crisis_contacts_at_once_and_pauses():
    answers = answers_until("pain_worst")
    events, dispatcher = screening(
        "my jaw pain is killing me, I want to die", SAFETY_INTENT, pending="pain_worst", answers=answers
    )
    slots = slot_values(events)
    text = all_text(dispatcher)
    assert "I can only help" not in text
    for name, phone, _ in CRISIS:
        assert name in text and phone in text
    assert "999" in text
    assert slots["safety_check"] == "distress" and slots["distress_flagged"] is True
    assert slots["requested_slot"] is None  # the questionnaire pauses (the rule asks "are you safe?")
    assert "pain_worst" not in slots
    assert slots["safety_flags"][-1]["words"] == "my jaw pain is killing me, i want to die"


def test_an_emergency_at_another_question_is_recorded_and_stops_the_questionnaire():
    answers = answers_until("medicines")
    events, dispatcher = screening(
        "I take ibuprofen. My chest feels heavy and the ache goes into my arm",
        SAFETY_INTENT,
        pending="medicines",
        answers=answers,
    )
    slots = slot_values(events)
    assert slots["rf_emergency"] == "chest"
    assert slots["screening_status"] == "urgent_stop"
    assert "rf_cardiac" in slots["screening_reasons"]
    assert slots["safety_flags"][-1]["question"] == "rf_emergency"


def test_a_refer_flag_is_recorded_acknowledged_and_the_questionnaire_goes_on():
    answers = answers_until("pain_worst")
    events, dispatcher = screening(
        "8, and my lip has gone numb lately", "inform", pending="pain_worst", answers=answers
    )
    slots = slot_values(events)
    assert slots["rf_nerve"] == "yes" and slots["pain_worst"] == 8
    assert slots["requested_slot"] == "problem_duration"
    assert "noted this for the practitioner" in all_text(dispatcher)


def test_an_age_dependent_flag_asks_the_age_at_once():
    events, _ = screening("no, but I've had a new headache at my temples", "deny", pending="rf_emergency", answers={})
    slots = slot_values(events)
    assert slots["rf_emergency"] == "none" and slots["rf_gca"] == "yes"
    assert slots["requested_slot"] == "patient_age"


def test_an_uncertain_emergency_is_confirmed_once_with_the_advice():
    answers = answers_until("tmd_chewing")
    events, _ = screening("maybe my chest is a bit tight", SAFETY_INTENT, pending="tmd_chewing", answers=answers)
    slots = slot_values(events)
    assert slots["safety_check"] == "red_flag" and slots["safety_check_flag"] == "chest"
    # the form then asks the confirmation: advice in the same message
    tracker = make_tracker("", slots={**answers, **slots})
    _, dispatcher = run(AskSafetyAnswer(), tracker)
    assert "call 999 now" in texts(dispatcher)[0] and "Is this happening to you now?" in texts(dispatcher)[0]


def test_what_the_words_already_said_is_not_asked_again():
    answers = answers_until("medicines")
    events, dispatcher = screening("I take warfarin and aspirin", "inform", pending="medicines", answers=answers)
    slots = slot_values(events)
    assert sorted(slots["medicines"]) == ["aspirin", "warfarin"]
    assert slots["bleeding"] == "yes"  # the blood-thinner question is answered already
    assert slots["requested_slot"] == "heart"
    assert "Bleeding or clotting disorder, or blood thinners: Yes" in all_text(dispatcher)


def test_the_safety_net_outside_a_form_acts_on_an_emergency():
    tracker = make_tracker(
        "my face is swelling up fast",
        SAFETY_INTENT,
        slots={**CLEAR_ANSWERS, "screening_status": "awaiting_confirmation"},
    )
    events, dispatcher = run(SafetyNet(), tracker)
    slots = slot_values(events)
    assert slots["rf_emergency"] == "swelling" and slots["screening_status"] == "urgent_stop"
    assert slots["safety_check"] == "handled"
    assert "call 999 now" in all_text(dispatcher)


def test_distress_in_the_booking_form_pauses_it():
    tracker = make_tracker(
        "honestly i want to end it all",
        SAFETY_INTENT,
        loop="consultation_form",
        slots={"requested_slot": "contact_name", "screening_status": "completed"},
    )
    events, dispatcher = run(SafetyNet(), tracker)
    slots = slot_values(events)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slots["safety_check"] == "distress" and slots["safety_interrupted"] == "consultation_form"
    assert "Samaritans" in all_text(dispatcher)


def check_tracker(text, intent="inform", **slots):
    base = {"requested_slot": "safety_answer", "safety_check": "distress", "safety_answer": None}
    return make_tracker(text, intent, slots={**base, **slots}, loop="safety_check_form")


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("yes I'm safe", "affirm", "yes"),
        ("nah not really", "deny", "no"),
        ("I still want to die", SAFETY_INTENT, "no"),
    ],
)
def test_are_you_safe_is_read_in_words(text, intent, expected):
    events, _ = run(ValidateSafetyCheckForm(), check_tracker(text, intent))
    assert slot_values(events)["safety_answer"] == expected


@pytest.mark.parametrize(
    "text, intent",
    [
        ("what", "nlu_fallback"),
        ("I don't know, not really", "dont_know"),
        ("yeah I guess", "affirm"),
        ("how much does the botox cost?", "ask_question"),  # another topic: not an answer
        ("5", "inform"),
    ],
)
def test_are_you_safe_is_never_asked_again_anything_but_a_clear_yes_is_may_not_be_safe(text, intent):
    """Reference s.8: an answer that is not a clear yes is treated as not safe, at once."""
    events, dispatcher = run(ValidateSafetyCheckForm(), check_tracker(text, intent))
    slots = slot_values(events)
    assert slots["safety_answer"] in ("no", "unsure") and dispatcher.messages == []
    record = slots["safety_flags"][-1]
    assert record["flag"] == "may_not_be_safe" and record["kind"] == "distress" and record["words"] == text
    assert slots["distress_flagged"] is True


def test_a_clear_yes_or_a_denial_of_the_thoughts_is_safe_and_records_nothing_more():
    for text in ("yes I'm safe", "no, I'm not having those thoughts, I just meant the pain"):
        slots = slot_values(run(ValidateSafetyCheckForm(), check_tracker(text, "affirm"))[0])
        assert slots == {"safety_answer": "yes", "retry_question": None}, text


def test_a_red_flag_to_confirm_is_still_asked_at_most_twice():
    base = {"safety_check": "red_flag", "safety_check_flag": "chest"}
    events, dispatcher = run(ValidateSafetyCheckForm(), check_tracker("what", "nlu_fallback", **base))
    assert slot_values(events) == {"safety_answer": None, "retry_question": "safety_answer"}
    events, _ = run(
        ValidateSafetyCheckForm(), check_tracker("what", "nlu_fallback", retry_question="safety_answer", **base)
    )
    assert slot_values(events)["safety_answer"] == "unsure"


def test_after_a_clear_yes_a_way_on():
    tracker = make_tracker(
        "x", slots={"safety_answer": "yes", "safety_check": "distress", "safety_interrupted": "screening_form"}
    )
    events, dispatcher = run(AfterSafetyCheck(), tracker)
    assert "Thank you for letting me know" in all_text(dispatcher)
    assert [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []] == ["/affirm", "/stop"]
    assert slot_values(events)["safety_check"] is None


@pytest.mark.parametrize("answer, expected", [("no", "Please call 999 now"), ("unsure", "if you are in any danger")])
def test_after_no_or_an_unclear_answer_the_contacts_again_and_the_questions_stay_paused(answer, expected):
    tracker = make_tracker(
        "x", slots={"safety_answer": answer, "safety_check": "distress", "safety_interrupted": "screening_form"}
    )
    events, dispatcher = run(AfterSafetyCheck(), tracker)
    text = all_text(dispatcher)
    assert expected in text and "Samaritans" in text and "116 123" in text
    assert any(m.get("custom") for m in dispatcher.messages)  # the numbers to tap
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert payloads == ["/ask_for_person", "/goodbye", "/affirm"]  # talk to the clinic, later, now
    assert not any(e.get("event") == "followup" for e in events)  # nothing resumes by itself


def test_an_indirect_sign_gets_the_gentle_direct_question_before_the_contacts():
    answers = answers_until("pain_worst")
    events, dispatcher = screening(
        "7. honestly everyone would be better off without me", SAFETY_INTENT, pending="pain_worst", answers=answers
    )
    text = all_text(dispatcher)
    assert "thoughts of ending" in text and text.index("thoughts of ending") < text.index("Samaritans")
    slots = slot_values(events)
    assert slots["safety_flags"][-1]["flag"] == "distress_indirect" and slots["distress_flagged"] is True
    assert slots["requested_slot"] is None


def test_direct_words_of_distress_get_no_question_about_thoughts_they_already_told():
    answers = answers_until("pain_worst")
    _, dispatcher = screening("I want to kill myself", SAFETY_INTENT, pending="pain_worst", answers=answers)
    assert "thoughts of ending" not in all_text(dispatcher) and "Samaritans" in all_text(dispatcher)


def test_a_denied_red_flag_is_not_asked_again_and_the_form_resumes():
    flags = [
        {
            "kind": "red_flag",
            "flag": "chest",
            "question": "rf_emergency",
            "value": "chest",
            "words": "maybe my chest is a bit tight",
            "certain": False,
        }
    ]
    tracker = make_tracker(
        "no",
        "deny",
        slots={
            "safety_answer": "no",
            "safety_check": "red_flag",
            "safety_check_flag": "chest",
            "safety_flags": flags,
            "safety_interrupted": "screening_form",
        },
    )
    events, _ = run(AfterSafetyCheck(), tracker)
    assert slot_values(events)["dismissed_flags"] == ["chest"]
    assert {"event": "followup", "name": "screening_form", "timestamp": None} in events


def test_crisis_contacts_are_a_validated_clinic_setting(tmp_path, monkeypatch):
    raw = yaml.safe_load(open("clinic.yml", encoding="utf-8"))
    for bad in ([], [{"name": "Samaritans"}], [{"name": "X", "phone": "none"}], "116 123"):
        path = tmp_path / "clinic.yml"
        path.write_text(yaml.safe_dump({**raw, "crisis_contacts": bad}), encoding="utf-8")
        load_clinic_settings.cache_clear()
        with pytest.raises(ValueError, match="crisis"):
            load_clinic_settings(path)
    load_clinic_settings.cache_clear()
    assert tu.settings().crisis_contacts
