"""Unit tests of the custom actions (actions/*.py), in the style of RasaHQ's financial-demo.

Each test builds a tracker with ``rasa_sdk.Tracker.from_dict`` as the action server would
receive it (slots, latest message, events including the bot's buttons, active loop), runs
the action with a real ``CollectingDispatcher`` and the domain from domain.yml, and checks
the returned events and the messages sent.

Entities come from the real NLU pipeline (``medical_nlu.pipeline.extract``) for free text;
intents are given by hand, as DIET would classify them. Messages starting with "/" are
parsed the way Rasa's RegexMessageHandler parses them (intent and entities from the
payload, no extractor), which is what a patient typing a payload produces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import safety
from actions import tracker_utils as tu
from actions.consultation import (
    AskContactConsent,
    AskContactTimes,
    BookConsultation,
    SubmitConsultation,
    ValidateConsultationForm,
)
from actions.conversation import (
    AskConsent,
    CoreFallback,
    SessionStart,
    StartOver,
    StopScreening,
    ValidateConsentForm,
)
from actions.outcome import (
    SECTION_BUTTONS,
    ApplyCorrection,
    AskWhatToChange,
    ChangeSection,
    GiveOutcome,
    ShowSummary,
    change_section_payload,
)
from actions.questionnaire import (
    CLARIFY,
    RECORDED_UNSURE_RED_FLAG,
    SECTION_INTROS,
    AskQuestionAction,
    ValidateScreeningForm,
)
from clinical import consultation_store
from clinical.clinic import load_clinic_settings
from clinical.questionnaire import NOT_ASKED, UNSURE, load_questionnaire
from clinical.ruleset import current_version
from medical_nlu.pipeline import EXTRACTOR_NAME, extract

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
CLINIC_RAW: dict[str, Any] = yaml.safe_load((PROJECT_DIR / "clinic.yml").read_text(encoding="utf-8"))
QUESTIONNAIRE = load_questionnaire()
SETTINGS = load_clinic_settings()

AFFIRM, DENY, DONT_KNOW, INFORM = "affirm", "deny", "dont_know", "inform"

# A full set of answers that fires no rule (eligible_for_consultation); TMD score 1+1+1 = 3.
CLEAR_ANSWERS: dict[str, Any] = {
    "rf_emergency": "none",
    "patient_age": 45,
    "rf_gca": NOT_ASKED,
    "rf_locked_jaw": "no",
    "rf_abscess": "no",
    "rf_systemic": "no",
    "rf_nerve": "no",
    "rf_ent": "no",
    "rf_rheumatic": "no",
    "tmd_pain_duration": "comes_and_goes",
    "tmd_morning_stiffness": "yes",
    "tmd_chewing": "yes",
    "tmd_opening": "no",
    "tmd_habits": "no",
    "tmd_other_activities": "no",
    "pain_worst": 6,
    "problem_duration": "over_a_year",
    "bruxism": "night",
    "temple_headaches": "no",
    "clicking_locking": "clicking",
    "treatments_tried": ["night_guard"],
    "daily_impact": "some",
    "pregnancy": "not_applicable",
    "allergy_toxin": "no",
    "allergy_milk": "no",
    "skin_infection": "no",
    "neuromuscular": "no",
    "swallow_breath": "no",
    "last_toxin": "never",
    "toxin_product": NOT_ASKED,
    "medicines": [],
    "bleeding": "no",
    "heart": "no",
    "surgery": "no",
    "facial_palsy": "no",
}
ELIGIBLE_PATTERN = re.compile(r"\b(you(?:'re| are)|is)\s+(?:now\s+)?eligible\b", re.I)


# ---------------------------------------------------------------------------
# Helpers: trackers as the action server receives them
# ---------------------------------------------------------------------------


def answers_until(question_id: str) -> dict[str, Any]:
    """CLEAR_ANSWERS for every question before ``question_id``; later ones unanswered."""
    ids = QUESTIONNAIRE.ids
    return {qid: CLEAR_ANSWERS[qid] for qid in ids[: ids.index(question_id)]}


def parse_payload(text: str):
    """What Rasa's RegexMessageHandler makes of "/intent{json}": intent and entities."""
    match = re.match(r"^\s*/([^{]+)(\{.*\})?\s*$", text)
    intent = match.group(1)
    data = json.loads(match.group(2)) if match.group(2) else {}
    entities = [{"entity": k, "value": v, "start": 0, "end": len(text)} for k, v in data.items()]
    return intent, entities


def bot_events(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dispatcher messages as the bot events Rasa stores (buttons under data.buttons)."""
    return [
        {
            "event": "bot",
            "text": m.get("text"),
            "metadata": {},
            "data": {
                "buttons": m.get("buttons") or None,
                "elements": None,
                "custom": None,
                "image": None,
                "attachment": None,
                "quick_replies": None,
            },
        }
        for m in messages
    ]


def user_event(text: str, intent: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities},
    }


def make_tracker(
    text: str = "",
    intent: str | None = None,
    *,
    slots: dict[str, Any] | None = None,
    bot: Iterable[dict[str, Any]] = (),
    history: Iterable[dict[str, Any]] = (),
    loop: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender_id: str = "patient-1",
) -> Tracker:
    """A tracker whose latest event is the patient's message ``text``.

    ``bot``: the bot's messages just before it (dispatcher messages; their buttons are
    the ones "offered"). ``history``: earlier events, before those bot messages.
    """
    if tu.is_payload_syntax(text):
        payload_intent, payload_entities = parse_payload(text)
        intent = intent or payload_intent
        entities = payload_entities if entities is None else entities
    elif entities is None:
        entities = extract(text)
    intent = intent or INFORM
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    events = [
        {"event": "action", "name": "action_listen"},
        *history,
        *bot_events(bot),
        {"event": "action", "name": "action_listen"},
        user_event(text, intent, entities),
    ]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 1.0},
                "entities": entities,
                "intent_ranking": [],
            },
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": loop} if loop else {},
            "latest_action_name": "action_listen",
        }
    )


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The final value of every slot the events set (later events win)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def slot_events(events) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == "slot"]


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def all_text(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(texts(dispatcher))


def all_buttons(dispatcher: CollectingDispatcher) -> list[dict[str, str]]:
    return [b for m in dispatcher.messages for b in m.get("buttons") or []]


def ask_action(question_id: str) -> AskQuestionAction:
    """The generated action_ask_<id>. If the garbage collector has already dropped the
    generated class (see test_domain_consistency: the classes are not kept alive), the
    same behaviour is exercised through an instance of the base class."""
    for cls in AskQuestionAction.__subclasses__():
        if cls.question_id == question_id:
            return cls()
    action = AskQuestionAction()
    action.question_id = question_id
    return action


def asked(question_id: str, slots: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The messages action_ask_<id> sends (to put in the tracker as the bot's turn)."""
    _, dispatcher = run(ask_action(question_id), make_tracker("hello", "greet", slots=slots))
    return dispatcher.messages


def screening(
    text: str,
    intent: str | None = None,
    *,
    pending: str,
    answers: dict[str, Any],
    bot: list[dict[str, Any]] | None = None,
    retry: str | None = None,
    **kwargs,
):
    """Runs validate_screening_form on ``text`` while ``pending`` is the requested slot.
    By default the bot's previous turn is the real question for ``pending``."""
    slots = {
        **answers,
        "requested_slot": pending,
        "retry_question": retry,
        "consent_given": True,
        "screening_status": "in_progress",
    }
    if bot is None:
        bot = asked(pending, slots)
    tracker = make_tracker(text, intent, slots=slots, bot=bot, loop="screening_form", **kwargs)
    return run(ValidateScreeningForm(), tracker)


@pytest.fixture
def clinic_file(tmp_path, monkeypatch):
    """Points CLINIC_SETTINGS at a temporary clinic.yml built from the real one."""

    def _write(**changes):
        raw = {**CLINIC_RAW, **changes}
        path = tmp_path / "clinic.yml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        monkeypatch.setenv("CLINIC_SETTINGS", str(path))
        load_clinic_settings.cache_clear()
        return path

    yield _write
    monkeypatch.delenv("CLINIC_SETTINGS", raising=False)
    load_clinic_settings.cache_clear()


def test_clear_answers_cover_every_question():
    assert list(CLEAR_ANSWERS) == QUESTIONNAIRE.ids


# ---------------------------------------------------------------------------
# validate_screening_form
# ---------------------------------------------------------------------------


def test_form_activation_requests_the_first_question():
    tracker = make_tracker("yes", AFFIRM, slots={"consent_given": True}, loop="screening_form")
    events, dispatcher = run(ValidateScreeningForm(), tracker)
    slots = slot_values(events)
    assert slots["requested_slot"] == "rf_emergency"
    assert slots["screening_status"] == "in_progress"
    assert "rf_emergency" not in slots
    assert dispatcher.messages == []


def test_clear_answer_sets_the_slot_and_requests_the_next_question():
    events, dispatcher = screening("none of these", INFORM, pending="rf_emergency", answers={})
    slots = slot_values(events)
    assert slots["rf_emergency"] == "none"
    assert slots["retry_question"] is None
    assert slots["requested_slot"] == "patient_age"
    assert slots["screening_status"] == "in_progress"
    assert dispatcher.messages == []


@pytest.mark.parametrize("text, age", [("I'm 45", 45), ("50", 50), ("I am 18 years old", 18)])
def test_gca_question_is_skipped_at_50_or_under(text, age):
    events, _ = screening(text, INFORM, pending="patient_age", answers=answers_until("patient_age"))
    slots = slot_values(events)
    assert slots["patient_age"] == age
    assert slots["rf_gca"] == NOT_ASKED
    assert slots["requested_slot"] == "rf_locked_jaw"


def test_gca_question_is_asked_over_50_and_reopened_when_it_was_skipped():
    answers = {**answers_until("patient_age"), "rf_gca": NOT_ASKED}
    events, _ = screening("I'm 62", INFORM, pending="patient_age", answers=answers)
    slots = slot_values(events)
    assert slots["patient_age"] == 62
    assert slots["rf_gca"] is None  # re-opened
    assert slots["requested_slot"] == "rf_gca"


def test_unclear_answer_is_asked_once_more_then_recorded_unsure():
    answers = answers_until("rf_locked_jaw")
    events, dispatcher = screening("purple elephants", INFORM, pending="rf_locked_jaw", answers=answers)
    slots = slot_values(events)
    assert "rf_locked_jaw" not in slots
    assert slots["retry_question"] == "rf_locked_jaw"
    assert slots["requested_slot"] == "rf_locked_jaw"
    assert texts(dispatcher) == [CLARIFY["not_understood"]]

    events, dispatcher = screening(
        "purple elephants", INFORM, pending="rf_locked_jaw", answers=answers, retry="rf_locked_jaw"
    )
    slots = slot_values(events)
    assert slots["rf_locked_jaw"] == UNSURE
    assert slots["retry_question"] is None
    assert slots["requested_slot"] == "rf_abscess"  # an unsure answer is for review, not urgent
    # a red-flag question is recorded "not sure" only with its advice shown again
    assert texts(dispatcher) == [RECORDED_UNSURE_RED_FLAG.format(advice=safety.advice("same_day"))]
    assert "doctor or an emergency dentist today" in texts(dispatcher)[0]


def test_dont_know_gets_its_own_clarification():
    answers = answers_until("rf_systemic")
    events, dispatcher = screening("I don't know", DONT_KNOW, pending="rf_systemic", answers=answers)
    assert slot_values(events)["retry_question"] == "rf_systemic"
    assert "rf_systemic" not in slot_values(events)
    assert texts(dispatcher) == [CLARIFY["dont_know"]]


def test_not_sure_button_records_unsure_at_once_with_the_advice_never_no():
    # The person chose "Not sure" after reading the question: recorded, not asked again;
    # on a red-flag question the advice is shown again (clinical reference s.2).
    answers = answers_until("rf_abscess")
    bot = asked("rf_abscess", answers)
    not_sure = tu.option_payload(UNSURE)
    assert not_sure in [b["payload"] for m in bot for b in m["buttons"]]
    events, dispatcher = screening(not_sure, pending="rf_abscess", answers=answers, bot=bot)
    assert slot_values(events)["rf_abscess"] == UNSURE
    assert slot_values(events)["requested_slot"] == "rf_systemic"
    assert "emergency dentist today" in all_text(dispatcher)


def test_number_out_of_range_says_the_range():
    answers = answers_until("pain_worst")
    events, dispatcher = screening("15", INFORM, pending="pain_worst", answers=answers)
    assert "pain_worst" not in slot_values(events)
    assert slot_values(events)["retry_question"] == "pain_worst"
    assert "from 0 to 10" in all_text(dispatcher)


def test_emergency_answer_stops_the_questionnaire_at_once():
    events, dispatcher = screening("I have chest pain", INFORM, pending="rf_emergency", answers={})
    slots = slot_values(events)
    assert slots["rf_emergency"] == "chest"
    assert slots["screening_status"] == "urgent_stop"
    assert slots["screening_outcome"] == "urgent_care"
    assert slots["screening_reasons"] == ["rf_cardiac"]
    assert slots["requested_slot"] is None
    # urgent_stop comes after the in_progress status set at the start of validation
    statuses = [e["value"] for e in slot_events(events) if e["name"] == "screening_status"]
    assert statuses[-1] == "urgent_stop"


def test_bare_yes_to_the_emergency_list_is_urgent():
    events, _ = screening("yes", AFFIRM, pending="rf_emergency", answers={})
    slots = slot_values(events)
    assert slots["rf_emergency"] == "unspecified"
    assert slots["screening_status"] == "urgent_stop"
    assert slots["screening_reasons"] == ["rf_emergency_sign"]
    assert slots["requested_slot"] is None


def test_negated_emergency_sign_is_none():
    events, _ = screening("no chest pain or swelling", DENY, pending="rf_emergency", answers={})
    assert slot_values(events)["rf_emergency"] == "none"
    assert slot_values(events)["requested_slot"] == "patient_age"


def test_last_question_answered_asks_for_confirmation():
    answers = answers_until("facial_palsy")
    events, dispatcher = screening("no", DENY, pending="facial_palsy", answers=answers)
    slots = slot_values(events)
    assert slots["facial_palsy"] == "no"
    assert slots["screening_status"] == "awaiting_confirmation"
    assert slots["requested_slot"] is None
    assert dispatcher.messages == []


def test_correction_while_another_question_is_pending_updates_it_and_reasks():
    answers = answers_until("allergy_toxin")
    assert answers["pregnancy"] == "not_applicable"
    events, dispatcher = screening("actually I'm breastfeeding", INFORM, pending="allergy_toxin", answers=answers)
    slots = slot_values(events)
    assert slots["pregnancy"] == "breastfeeding"
    assert "allergy_toxin" not in slots
    assert slots["requested_slot"] == "allergy_toxin"  # the pending question is asked again
    assert slots["retry_question"] is None
    assert slots["screening_status"] == "in_progress"
    assert texts(dispatcher) == ["Thanks, I've updated your answer: Pregnancy or breastfeeding: Breastfeeding."]


def test_age_correction_mid_form_reopens_the_gca_question():
    answers = answers_until("tmd_chewing")
    events, _ = screening("sorry, actually I'm 62", INFORM, pending="tmd_chewing", answers=answers)
    slots = slot_values(events)
    assert slots["patient_age"] == 62
    assert slots["rf_gca"] is None
    assert slots["requested_slot"] == "rf_gca"


def test_correction_to_an_emergency_sign_mid_form_stops_at_once():
    answers = answers_until("tmd_chewing")
    events, _ = screening("I'm getting chest pain now", INFORM, pending="tmd_chewing", answers=answers)
    slots = slot_values(events)
    assert slots["rf_emergency"] == "chest"
    assert slots["screening_status"] == "urgent_stop"
    assert slots["requested_slot"] is None


def test_correction_alongside_an_answer_to_the_pending_question_is_kept():
    answers = answers_until("rf_nerve")
    events, _ = screening("no, but actually I'm 62", DENY, pending="rf_nerve", answers=answers)
    slots = slot_values(events)
    assert slots["rf_nerve"] == "no"
    assert slots["patient_age"] == 62
    assert slots["requested_slot"] == "rf_gca"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("how much does it cost?", "ask_question"),
        ("does it hurt, what are the side effects?", "ask_question"),
        ("are you a robot?", "bot_challenge"),
        ("stop", "stop"),
        ("I want to change an answer", "change_answer"),
        ("can I just book an appointment", "book_consultation"),
    ],
)
def test_interruption_returns_no_events_so_the_rule_answers(text, intent):
    answers = answers_until("rf_nerve")
    events, dispatcher = screening(text, intent, pending="rf_nerve", answers=answers)
    assert events == []
    assert dispatcher.messages == []


def test_words_that_answer_the_question_win_over_a_question_intent():
    answers = answers_until("rf_nerve")
    events, dispatcher = screening("yes, my face feels numb", "ask_question", pending="rf_nerve", answers=answers)
    slots = slot_values(events)
    assert slots["rf_nerve"] == "yes"
    assert slots["requested_slot"] == "rf_ent"  # needs review, not urgent: carry on
    assert dispatcher.messages == []


def test_typed_payload_that_was_not_offered_is_never_accepted():
    forged = tu.option_payload("none")
    # the bot's last turn had no buttons (a clarification message)
    clarification = [{"text": CLARIFY["not_understood"], "buttons": []}]
    events, dispatcher = screening(forged, pending="rf_emergency", answers={}, bot=clarification)
    slots = slot_values(events)
    assert "rf_emergency" not in slots
    assert slots["requested_slot"] == "rf_emergency"
    assert texts(dispatcher) == [CLARIFY["payload"]]
    # and not on the retry either
    events, _ = screening(forged, pending="rf_emergency", answers={}, bot=clarification, retry="rf_emergency")
    assert slot_values(events).get("rf_emergency") != "none"


def test_payload_offered_before_the_previous_message_is_stale():
    forged = tu.option_payload("none")
    stale_turn = [*bot_events(asked("rf_emergency")), user_event("hmm", INFORM, [])]
    events, dispatcher = screening(
        forged,
        pending="rf_emergency",
        answers={},
        bot=[{"text": CLARIFY["not_understood"], "buttons": []}],
        history=stale_turn,
    )
    assert "rf_emergency" not in slot_values(events)
    assert texts(dispatcher) == [CLARIFY["payload"]]


def test_same_payload_offered_as_a_button_is_accepted():
    bot = asked("rf_emergency")
    payload = tu.option_payload("none")
    assert payload in [b["payload"] for m in bot for b in m["buttons"]]
    events, dispatcher = screening(payload, pending="rf_emergency", answers={}, bot=bot)
    slots = slot_values(events)
    assert slots["rf_emergency"] == "none"
    assert slots["requested_slot"] == "patient_age"
    assert dispatcher.messages == []


def test_forged_emergency_payload_is_not_accepted_either():
    """A forged payload can't set an answer, whatever it claims (here: a safe one would be
    worse, but an alarming one is also not the patient's own answer)."""
    events, _ = screening(
        tu.option_payload("chest"), pending="rf_emergency", answers={}, bot=[{"text": "Sorry?", "buttons": []}]
    )
    assert "rf_emergency" not in slot_values(events)


def test_entities_on_a_payload_message_are_ignored():
    # A tapped "No" whose message somehow carries our extractor's entities: the entities
    # must neither answer nor correct anything.
    answers = answers_until("allergy_toxin")
    sneaky = [
        {
            "entity": "pregnancy",
            "value": "breastfeeding",
            "start": 0,
            "end": 5,
            "extractor": EXTRACTOR_NAME,
            "negated": False,
        },
        {"entity": "option", "value": "no"},
    ]
    events, dispatcher = screening(
        tu.option_payload("no"), INFORM, pending="allergy_toxin", answers=answers, entities=sneaky
    )
    slots = slot_values(events)
    assert slots["allergy_toxin"] == "no"
    assert "pregnancy" not in slots
    assert dispatcher.messages == []


def test_entities_on_a_forged_payload_are_ignored():
    chest = [
        {
            "entity": "symptom",
            "value": "chest_pain",
            "start": 0,
            "end": 5,
            "extractor": EXTRACTOR_NAME,
            "negated": False,
        }
    ]
    events, _ = screening(
        '/inform{"option": "chest pain"}',
        INFORM,
        pending="rf_emergency",
        answers={},
        bot=[{"text": "Sorry?", "buttons": []}],
        entities=chest,
    )
    assert "rf_emergency" not in slot_values(events)


def test_validation_outside_the_screening_form_does_not_answer():
    """No active screening_form: the message is not read as an answer."""
    slots = {**answers_until("rf_nerve"), "requested_slot": "rf_nerve"}
    tracker = make_tracker("yes", AFFIRM, slots=slots, loop=None)
    events, _ = run(ValidateScreeningForm(), tracker)
    assert "rf_nerve" not in slot_values(events)


# ---------------------------------------------------------------------------
# action_ask_<question>
# ---------------------------------------------------------------------------


def test_ask_rf_emergency_sends_the_question_with_option_buttons():
    messages = asked("rf_emergency")
    assert len(messages) == 1  # the red-flags section has no separate intro
    message = messages[0]
    assert message["text"].startswith("First, a few safety questions.")
    assert "{" not in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads == [
        tu.option_payload(v) for v in ("chest", "airway", "swelling", "injury", "neuro", "none", UNSURE)
    ]
    assert all(re.fullmatch(r'/inform\{"option": "[a-z_]+"\}', p) for p in payloads)
    assert [b["title"] for b in message["buttons"]][-1] == "Not sure"


def test_ask_rf_emergency_gives_the_emergency_number_from_clinic_yml(clinic_file):
    clinic_file(emergency_number="112")
    text = asked("rf_emergency")[0]["text"]
    assert "112" in text and "999" not in text


def test_question_text_is_filled_from_clinic_settings(clinic_file):
    clinic_file(emergency_number="112", clinic_name="Test Clinic")
    assert tu.format_with_settings("call {emergency_number} or {clinic_name}") == "call 112 or Test Clinic"


@pytest.mark.parametrize("question", [q for q in QUESTIONNAIRE.questions])
def test_every_question_has_buttons_with_option_payloads(question):
    messages = asked(question.id)
    buttons = messages[-1]["buttons"]
    assert messages[-1]["text"] == question.text.replace("{emergency_number}", "999")
    assert all(b["payload"].startswith('/inform{"option": ') for b in buttons)
    if question.safety:
        assert tu.option_payload(UNSURE) in [b["payload"] for b in buttons]
    if question.type == "number" and not question.safety:
        assert buttons == []  # e.g. the 0-10 pain score is typed
    else:
        assert buttons, question.id
    if question.type == "yes_no":
        assert [b["title"] for b in buttons] == ["Yes", "No", "Not sure"]


def test_section_intro_is_shown_once_for_the_first_symptoms_question():
    answers = answers_until("tmd_pain_duration")
    messages = asked("tmd_pain_duration", answers)
    assert [m["text"] for m in messages] == [SECTION_INTROS["symptoms"], QUESTIONNAIRE.get("tmd_pain_duration").text]
    assert messages[0]["buttons"] == []
    # not again for the next question of the section
    answers = answers_until("tmd_morning_stiffness")
    messages = asked("tmd_morning_stiffness", answers)
    assert [m["text"] for m in messages] == [QUESTIONNAIRE.get("tmd_morning_stiffness").text]
    # nor when the first question is asked again after an unclear answer
    slots = {**answers_until("tmd_pain_duration"), "retry_question": "tmd_pain_duration"}
    messages = asked("tmd_pain_duration", slots)
    assert SECTION_INTROS["symptoms"] not in [m["text"] for m in messages]


def test_pregnancy_question_has_a_does_not_apply_button():
    messages = asked("pregnancy", answers_until("pregnancy"))
    assert messages[0]["text"] == SECTION_INTROS["pregnancy"]
    titles = [b["title"] for b in messages[-1]["buttons"]]
    assert "None of these / does not apply" in titles


def test_ask_consent_gives_disclaimer_emergency_number_and_yes_no():
    events, dispatcher = run(AskConsent(), make_tracker("hi", "greet"))
    assert events == []
    text = all_text(dispatcher)
    assert "not a diagnosis" in text
    assert f"call {SETTINGS.emergency_number}" in text
    assert SETTINGS.clinic_name in text
    assert [b["payload"] for b in all_buttons(dispatcher)] == [tu.option_payload("yes"), tu.option_payload("no")]


# ---------------------------------------------------------------------------
# action_give_outcome
# ---------------------------------------------------------------------------

OUTCOME_CASES = {
    # name: (answers, outcome, reasons, tmd score, status)
    "eligible": (CLEAR_ANSWERS, "eligible_for_consultation", [], 3, "completed"),
    "review": ({**CLEAR_ANSWERS, "heart": "yes"}, "needs_medical_review", ["heart"], 3, "completed"),
    "review_unrecognised_medicine": (
        {**CLEAR_ANSWERS, "medicines": ["unknown"]},
        "needs_medical_review",
        ["medicine_unrecognised"],
        3,
        "completed",
    ),
    "not_eligible": ({**CLEAR_ANSWERS, "pregnancy": "pregnant"}, "not_eligible_now", ["pregnancy"], 3, "completed"),
    "breastfeeding_default": (
        {**CLEAR_ANSWERS, "pregnancy": "breastfeeding"},
        "not_eligible_now",
        ["breastfeeding"],
        3,
        "completed",
    ),
    "recent_toxin": (
        {**CLEAR_ANSWERS, "last_toxin": "under_12_weeks", "toxin_product": "botox"},
        "not_eligible_now",
        ["recent_toxin"],
        3,
        "completed",
    ),
    "urgent_emergency": ({"rf_emergency": "chest"}, "urgent_care", ["rf_cardiac"], None, "urgent_stop"),
    "urgent_same_day": (
        {**answers_until("rf_locked_jaw"), "rf_locked_jaw": "yes"},
        "urgent_care",
        ["rf_jaw_locked"],
        None,
        "urgent_stop",
    ),
}


@pytest.mark.parametrize("case", list(OUTCOME_CASES))
def test_give_outcome_sets_the_contract_slots(case):
    answers, outcome, reasons, score, status = OUTCOME_CASES[case]
    events, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    assert slot_values(events) == {
        "screening_outcome": outcome,
        "screening_reasons": reasons,
        "ruleset_version": current_version().label,
        "tmd_screener_score": score,
        "screening_status": status,
    }
    assert not ELIGIBLE_PATTERN.search(all_text(dispatcher)), all_text(dispatcher)
    assert "{" not in all_text(dispatcher)


@pytest.mark.parametrize("case", [c for c in OUTCOME_CASES if not c.startswith("urgent")])
def test_non_urgent_outcome_offers_a_consultation(case):
    answers = OUTCOME_CASES[case][0]
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    assert [b["payload"] for b in all_buttons(dispatcher)] == ["/affirm", "/deny"]
    assert "not a diagnosis" in all_text(dispatcher)
    assert "call 999" not in all_text(dispatcher)


def test_eligible_wording_leaves_the_decision_to_the_practitioner():
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=CLEAR_ANSWERS))
    text = all_text(dispatcher)
    assert "Nothing in this screening rules the treatment out" in text
    assert "practitioner decides" in text


def test_not_eligible_explains_why():
    answers = OUTCOME_CASES["recent_toxin"][0]
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    assert "isn't suitable right now" in all_text(dispatcher)
    assert "12 weeks after your last injection" in all_text(dispatcher)


def test_review_outcome_never_says_to_stop_medicines():
    answers = {**CLEAR_ANSWERS, "bleeding": "yes", "medicines": ["warfarin"]}
    events, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    assert slot_values(events)["screening_reasons"] == ["bleeding"]
    text = all_text(dispatcher).lower()
    assert "keep taking your medicines" in text
    assert "stop taking" not in text


def test_urgent_emergency_says_call_999_and_offers_no_booking():
    _, dispatcher = run(
        GiveOutcome(), make_tracker("I have chest pain", INFORM, slots=OUTCOME_CASES["urgent_emergency"][0])
    )
    text = all_text(dispatcher)
    assert "call 999" in text
    assert "heart problem" in text  # the reason, in plain words
    assert "Injections for jaw pain are not the right next step today" in text
    assert all_buttons(dispatcher) == []


def test_urgent_same_day_gives_same_day_advice_and_offers_no_booking():
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=OUTCOME_CASES["urgent_same_day"][0]))
    text = all_text(dispatcher)
    assert SETTINGS.same_day_advice in text
    assert "locked" in text
    assert all_buttons(dispatcher) == []


def test_unsure_red_flag_gives_emergency_advice_but_no_urgent_stop():
    answers = {**CLEAR_ANSWERS, "rf_emergency": UNSURE}
    events, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    assert slot_values(events)["screening_outcome"] == "needs_medical_review"
    assert slot_values(events)["screening_reasons"] == ["unsure_rf_emergency"]
    assert "call 999 now" in all_text(dispatcher)


def test_clinic_override_turns_breastfeeding_into_review(clinic_file):
    clinic_file(rule_overrides={"breastfeeding": {"outcome": "needs_medical_review"}})
    answers = {**CLEAR_ANSWERS, "pregnancy": "breastfeeding"}
    events, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    slots = slot_values(events)
    assert slots["screening_outcome"] == "needs_medical_review"
    assert slots["screening_reasons"] == ["breastfeeding"]
    assert slots["screening_status"] == "completed"
    assert "need a practitioner" in all_text(dispatcher)


def test_clinic_emergency_number_is_used_in_the_urgent_outcome(clinic_file):
    clinic_file(emergency_number="112")
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots={"rf_emergency": "airway"}))
    assert "call 112" in all_text(dispatcher)
    assert "999" not in all_text(dispatcher)


# ---------------------------------------------------------------------------
# Summary, corrections, changing a section
# ---------------------------------------------------------------------------


def test_show_summary_lists_the_answers_and_asks_to_confirm():
    events, dispatcher = run(ShowSummary(), make_tracker("no", DENY, slots=CLEAR_ANSWERS))
    assert slot_values(events) == {"screening_status": "awaiting_confirmation"}
    summary = dispatcher.messages[0]["text"]
    assert summary.startswith("Here is a summary of your answers:")
    for line in (
        "• Age: 45",
        "• Emergency warning signs right now: None of these",
        "• Pregnancy or breastfeeding: None of these / does not apply",
        "• Treatments already tried: Night guard / splint",
        "• Medicines taken: None",
        "• Worst pain in the last week (0–10): 6",
        "• Heart disease: No",
    ):
        assert line in summary
    assert QUESTIONNAIRE.get("rf_gca").summary not in summary  # not asked: not listed
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/change_answer"]


def test_show_summary_reads_back_unsure_and_unrecognised_medicines():
    answers = {**CLEAR_ANSWERS, "heart": UNSURE, "medicines": ["warfarin", "unknown"]}
    _, dispatcher = run(ShowSummary(), make_tracker("no", DENY, slots=answers))
    summary = dispatcher.messages[0]["text"]
    assert "• Heart disease: Not sure" in summary
    assert "• Medicines taken: warfarin, a medicine I didn't recognise" in summary


@pytest.mark.parametrize(
    "text, current, expected",
    [
        ("actually I'm breastfeeding", "not_applicable", "breastfeeding"),
        ("sorry, I'm not pregnant", "pregnant", "not_applicable"),
    ],
)
def test_apply_correction_updates_the_answer(text, current, expected):
    slots = {**CLEAR_ANSWERS, "pregnancy": current, "screening_status": "awaiting_confirmation"}
    events, dispatcher = run(ApplyCorrection(), make_tracker(text, INFORM, slots=slots))
    assert slot_values(events) == {
        "pregnancy": expected,
        "retry_question": None,
        "screening_status": "awaiting_confirmation",
    }
    label = QUESTIONNAIRE.get("pregnancy").label_for(expected)
    assert texts(dispatcher)[0] == f"Thanks, I've updated your answer: Pregnancy or breastfeeding: {label}."
    # the summary again, with the new answer in it
    assert f"Pregnancy or breastfeeding: {label}" in texts(dispatcher)[1]


def test_apply_correction_adds_a_medicine_and_updates_the_related_question():
    slots = {**CLEAR_ANSWERS, "medicines": ["ibuprofen"]}
    events, dispatcher = run(ApplyCorrection(), make_tracker("I also take warfarin", INFORM, slots=slots))
    # warfarin is a blood thinner, which the bleeding question also asks about
    assert slot_values(events) == {
        "medicines": ["ibuprofen", "warfarin"],
        "bleeding": "yes",
        "retry_question": None,
        "screening_status": "awaiting_confirmation",
    }
    assert len(dispatcher.messages) == 4  # two updates, then the summary and its question


def test_apply_correction_without_a_recognisable_change_shows_the_summary_then_keeps_the_answers():
    # The rule shows the summary again after this action; a second reply that changes
    # nothing keeps the answers as they are and gives the outcome (no loop).
    events, dispatcher = run(ApplyCorrection(), make_tracker("purple elephants", INFORM, slots=CLEAR_ANSWERS))
    assert slot_values(events) == {"retry_question": "summary", "screening_status": "awaiting_confirmation"}
    assert texts(dispatcher)[0].startswith("Sorry, I couldn't tell which answer to change.")
    events, dispatcher = run(
        ApplyCorrection(),
        make_tracker("purple elephants", INFORM, slots={**CLEAR_ANSWERS, "retry_question": "summary"}),
    )
    assert slot_values(events) == {"retry_question": None}
    assert {"event": "followup", "timestamp": None, "name": "action_give_outcome"} in events


def test_age_correction_at_the_summary_goes_back_to_the_gca_question():
    slots = {**CLEAR_ANSWERS, "screening_status": "awaiting_confirmation"}
    events, _ = run(ApplyCorrection(), make_tracker("actually I'm 62", INFORM, slots=slots))
    assert slot_values(events) == {"patient_age": 62}
    assert {"event": "followup", "timestamp": None, "name": "screening_form"} in events
    # the form then re-opens the over-50 question and asks it
    slots.update(slot_values(events))
    form_events, _ = run(
        ValidateScreeningForm(), make_tracker("actually I'm 62", INFORM, slots=slots, loop="screening_form")
    )
    assert slot_values(form_events)["rf_gca"] is None
    assert slot_values(form_events)["requested_slot"] == "rf_gca"


def test_red_flag_correction_at_the_summary_goes_back_to_the_form_which_stops():
    slots = {**CLEAR_ANSWERS, "screening_status": "awaiting_confirmation"}
    events, _ = run(ApplyCorrection(), make_tracker("actually my jaw is locked", INFORM, slots=slots))
    assert slot_values(events)["rf_locked_jaw"] == "yes"
    assert {"event": "followup", "timestamp": None, "name": "screening_form"} in events
    slots.update(slot_values(events))
    form_events, _ = run(
        ValidateScreeningForm(), make_tracker("actually my jaw is locked", INFORM, slots=slots, loop="screening_form")
    )
    values = slot_values(form_events)
    assert values["screening_status"] == "urgent_stop"
    assert values["screening_reasons"] == ["rf_jaw_locked"]
    assert values["requested_slot"] is None


def test_unsure_age_still_asks_the_gca_question():
    answers = answers_until("patient_age")
    bot = asked("patient_age", answers)
    not_sure = tu.option_payload(UNSURE)
    events, _ = screening(not_sure, pending="patient_age", answers=answers, bot=bot, retry="patient_age")
    slots = slot_values(events)
    assert slots["patient_age"] == UNSURE
    assert slots["requested_slot"] == "rf_gca"


def test_ask_what_to_change_offers_the_sections():
    events, dispatcher = run(AskWhatToChange(), make_tracker("/change_answer", "change_answer"))
    # its own status, so "nothing" goes back to the summary (data/rules.yml)
    assert slot_values(events) == {"screening_status": "choosing_change", "retry_question": None}
    assert [b["title"] for b in all_buttons(dispatcher)] == [t for t, _ in SECTION_BUTTONS] + ["Nothing, go back"]


@pytest.mark.parametrize("section", [s for _, s in SECTION_BUTTONS])
def test_change_section_clears_only_the_chosen_section(section):
    _, offered = run(AskWhatToChange(), make_tracker("no", DENY))
    slots = {
        **CLEAR_ANSWERS,
        "screening_status": "completed",
        "screening_outcome": "eligible_for_consultation",
        "screening_reasons": [],
    }
    tracker = make_tracker(change_section_payload(section), slots=slots, bot=offered.messages)
    events, dispatcher = run(ChangeSection(), tracker)
    values = slot_values(events)
    section_ids = {q.id for q in QUESTIONNAIRE.questions if q.section == section}
    cleared = {name for name, value in values.items() if name in QUESTIONNAIRE.ids}
    assert cleared == section_ids
    assert all(values[qid] is None for qid in section_ids)
    # the status is left for the form to set, so the rule can continue with the form
    assert "screening_status" not in values
    assert values["screening_outcome"] is None and values["screening_reasons"] is None
    assert values["retry_question"] is None
    assert dispatcher.messages == []


def test_change_section_payload_not_offered_changes_nothing():
    # the bot's last turn was the summary (confirm buttons), not the section choice
    _, summary = run(ShowSummary(), make_tracker("no", DENY, slots=CLEAR_ANSWERS))
    tracker = make_tracker(change_section_payload("pregnancy"), slots=CLEAR_ANSWERS, bot=summary.messages)
    events, dispatcher = run(ChangeSection(), tracker)
    assert not set(slot_values(events)) & set(QUESTIONNAIRE.ids)  # no answer cleared
    # the rule goes on to the questionnaire, which shows the summary again: a way on
    assert texts(dispatcher) == ["Sorry, I couldn't tell which part to change."]


def test_change_section_unknown_section_changes_nothing():
    forged = "/change_answer" + json.dumps({"section": "everything"})
    _, offered = run(AskWhatToChange(), make_tracker("no", DENY))
    events, _ = run(ChangeSection(), make_tracker(forged, slots=CLEAR_ANSWERS, bot=offered.messages))
    assert not set(slot_values(events)) & set(QUESTIONNAIRE.ids)  # no answer cleared


# ---------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------


def consent_tracker(text, intent=None, *, offered=True, **kwargs):
    bot = run(AskConsent(), make_tracker("hi", "greet"))[1].messages if offered else [{"text": "Hello!", "buttons": []}]
    return make_tracker(text, intent, slots={"requested_slot": "consent_given"}, bot=bot, loop="consent_form", **kwargs)


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        (tu.option_payload("yes"), None, True),
        (tu.option_payload("no"), None, False),
        ("yes that's fine", AFFIRM, True),
        ("no thanks", DENY, False),
    ],
)
def test_consent_by_button_or_typed(text, intent, expected):
    events, dispatcher = run(ValidateConsentForm(), consent_tracker(text, intent))
    assert events == [
        {"event": "slot", "timestamp": None, "name": "consent_given", "value": expected},
        {"event": "slot", "timestamp": None, "name": "retry_question", "value": None},
    ]
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", [tu.option_payload("yes"), "/affirm", '/inform{"option": "maybe"}'])
def test_consent_forged_payload_is_asked_again(text):
    events, dispatcher = run(ValidateConsentForm(), consent_tracker(text, offered=False))
    assert events == [
        {"event": "slot", "timestamp": None, "name": "consent_given", "value": None},
        {"event": "slot", "timestamp": None, "name": "retry_question", "value": "consent_given"},
    ]
    assert "yes or no" in all_text(dispatcher)


def test_consent_unclear_is_asked_again_then_taken_as_no():
    events, dispatcher = run(ValidateConsentForm(), consent_tracker("what?", INFORM))
    assert slot_values(events) == {"consent_given": None, "retry_question": "consent_given"}
    assert "yes or no" in all_text(dispatcher)
    # Still unclear the second time: no health questions without a clear yes, and no loop.
    bot = run(AskConsent(), make_tracker("hi", "greet"))[1].messages
    events, dispatcher = run(
        ValidateConsentForm(),
        make_tracker(
            "what?",
            INFORM,
            slots={"requested_slot": "consent_given", "retry_question": "consent_given"},
            bot=bot,
            loop="consent_form",
        ),
    )
    assert slot_values(events) == {"consent_given": False, "retry_question": None}


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("no, I'd rather not share health details", "out_of_scope", False),
        ("I'd prefer not to", "nlu_fallback", False),
        ("sure, go ahead", "nlu_fallback", True),
        ("ok but I don't want you to keep my answers", "affirm", False),
        ("no problem, fire away", "deny", True),
    ],
)
def test_consent_in_a_sentence_whatever_the_intent(text, intent, expected):
    events, _ = run(ValidateConsentForm(), consent_tracker(text, intent))
    assert slot_values(events)["consent_given"] is expected


def test_consent_question_interruption_is_left_to_the_rules():
    events, dispatcher = run(ValidateConsentForm(), consent_tracker("how much is it?", "ask_question"))
    assert events == [] and dispatcher.messages == []


# ---------------------------------------------------------------------------
# Consultation request
# ---------------------------------------------------------------------------


def contact_slots(events):
    """The consultation slots an answer set (the retry counter is bookkeeping)."""
    return {k: v for k, v in slot_values(events).items() if k != "retry_question"}


def consultation_tracker(slot, text, intent=None, *, bot=None, slots=None, **kwargs):
    return make_tracker(
        text,
        intent,
        slots={"requested_slot": slot, "screening_status": "completed", **(slots or {})},
        bot=bot if bot is not None else [{"text": "?", "buttons": []}],
        loop="consultation_form",
        **kwargs,
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Sam", "Sam"),
        ("My name is Sam Smith", "Sam Smith"),
        ("I'm Aoife O'Brien-Ní Bhriain.", "Aoife O'Brien-Ní Bhriain"),
        ("Dr José García", "Dr José García"),
    ],
)
def test_consultation_valid_names(text, expected):
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_name", text))
    assert contact_slots(events) == {"contact_name": expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", ["07700 900123", "sam@example.org", "12345", "...", "R2D2", "x" * 101])
def test_consultation_invalid_names_are_asked_again(text):
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_name", text))
    assert contact_slots(events) == {"contact_name": None}
    assert "your name" in all_text(dispatcher)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("07400 123456", "+447400123456"),  # a UK mobile, stored in E.164 (clinical/contact.py)
        ("call me on +44 20 7946 0000", "+442079460000"),
        ("(020) 7946-0000", "+442079460000"),
        ("Sam.Smith@Example.ORG", "Sam.Smith@example.org"),
        ("email me at o'brien+jaw@mail.example.co.uk please", "o'brien+jaw@mail.example.co.uk"),
    ],
)
def test_consultation_valid_contact_details(text, expected):
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_details", text))
    assert contact_slots(events) == {"contact_details": expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text", ["call me", "12345", "1234567890123456", "01632 960000", "sam@example", "sam at example dot org"]
)
def test_consultation_invalid_contact_details_are_asked_again(text):
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_details", text))
    assert contact_slots(events) == {"contact_details": None}
    assert "phone number or email" in all_text(dispatcher)


def test_consultation_times_by_button_or_typed():
    _, asked_times = run(AskContactTimes(), make_tracker("x"))
    events, _ = run(
        ValidateConsultationForm(),
        consultation_tracker("contact_times", tu.option_payload("evenings"), bot=asked_times.messages),
    )
    assert contact_slots(events) == {"contact_times": "evenings"}
    events, _ = run(ValidateConsultationForm(), consultation_tracker("contact_times", "Tuesdays after 4pm"))
    assert contact_slots(events) == {"contact_times": "Tuesdays after 4pm"}
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_times", "x" * 201))
    assert contact_slots(events) == {"contact_times": None}


def test_consultation_forged_payload_is_rejected():
    events, dispatcher = run(
        ValidateConsultationForm(), consultation_tracker("contact_times", tu.option_payload("evenings"))
    )
    assert contact_slots(events) == {"contact_times": None}
    assert "choose one of the options" in all_text(dispatcher)


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        (tu.option_payload("yes"), None, True),
        (tu.option_payload("no"), None, False),
        ("yes please", AFFIRM, True),
        ("no", DENY, False),
        ("hmm", INFORM, None),
    ],
)
def test_consultation_consent(text, intent, expected):
    slots = {"contact_details": "07700900123"}
    _, asked_consent = run(AskContactConsent(), make_tracker("x", slots=slots))
    assert "07700900123" in all_text(asked_consent)
    events, dispatcher = run(
        ValidateConsultationForm(),
        consultation_tracker("contact_consent", text, intent, bot=asked_consent.messages, slots=slots),
    )
    assert contact_slots(events) == {"contact_consent": expected}
    assert (dispatcher.messages == []) == (expected is not None)


def test_consultation_interruption_is_left_to_the_rules():
    events, _ = run(
        ValidateConsultationForm(), consultation_tracker("contact_name", "what does it cost", "ask_question")
    )
    assert events == []


def test_consultation_validation_outside_its_form_does_nothing():
    tracker = make_tracker("Sam", slots={"requested_slot": "contact_name"}, loop="screening_form")
    assert run(ValidateConsultationForm(), tracker)[0] == []


CONTACT = {
    "contact_name": "Sam Smith",
    "contact_details": "07700900123",
    "contact_times": "evenings",
    "screening_outcome": "needs_medical_review",
    "screening_reasons": ["heart"],
    "screening_status": "completed",
}


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'consultations.db'}"
    monkeypatch.setenv("CONSULTATION_DB_URL", url)
    return url


def test_submit_consultation_stores_a_row_with_consent(db_url):
    tracker = make_tracker("yes", AFFIRM, slots={**CONTACT, "contact_consent": True}, sender_id="conv-42")
    events, dispatcher = run(SubmitConsultation(), tracker)
    assert slot_values(events) == {"consultation_requested": True}
    assert "Thank you, Sam Smith. Your request has been passed to Example Jaw Clinic." in all_text(dispatcher)
    rows = consultation_store.list_requests(db_url)
    assert len(rows) == 1
    row = rows[0]
    assert (
        row["conversation_id"],
        row["name"],
        row["contact"],
        row["contact_kind"],
        row["preferred_times"],
        row["screening_outcome"],
        json.loads(row["screening_reasons"]),
        row["contacted"],
    ) == ("conv-42", "Sam Smith", "07700900123", "phone", "evenings", "needs_medical_review", ["heart"], False)


def test_submit_consultation_stores_email_kind(db_url):
    slots = {**CONTACT, "contact_details": "sam@example.org", "contact_consent": True}
    run(SubmitConsultation(), make_tracker("yes", AFFIRM, slots=slots))
    assert consultation_store.list_requests(db_url)[0]["contact_kind"] == "email"


@pytest.mark.parametrize("consent", [False, None])
def test_submit_consultation_without_consent_stores_nothing(db_url, consent):
    tracker = make_tracker("no", DENY, slots={**CONTACT, "contact_consent": consent})
    events, dispatcher = run(SubmitConsultation(), tracker)
    assert consultation_store.list_requests(db_url) == []
    assert contact_slots(events) == {
        "contact_name": None,
        "contact_details": None,
        "contact_times": None,
        "contact_consent": None,
        "consultation_requested": False,
    }
    assert "haven't saved your contact details" in all_text(dispatcher)
    assert SETTINGS.booking_instructions in all_text(dispatcher)


def test_submit_consultation_says_so_honestly_when_the_database_fails(db_url, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(consultation_store, "save_request", broken)
    tracker = make_tracker("yes", AFFIRM, slots={**CONTACT, "contact_consent": True})
    events, dispatcher = run(SubmitConsultation(), tracker)
    assert slot_values(events) == {"consultation_requested": False}
    text = all_text(dispatcher)
    assert "couldn't pass your request on" in text
    assert SETTINGS.booking_instructions in text
    assert "has been passed" not in text


def test_submit_consultation_with_an_unusable_database_url(monkeypatch):
    monkeypatch.setenv("CONSULTATION_DB_URL", "nosuchdialect://nowhere/db")
    tracker = make_tracker("yes", AFFIRM, slots={**CONTACT, "contact_consent": True})
    events, dispatcher = run(SubmitConsultation(), tracker)
    assert slot_values(events) == {"consultation_requested": False}
    assert "has been passed" not in all_text(dispatcher)


@pytest.mark.parametrize(
    "status, expected_events, phrase",
    [
        ("urgent_stop", [], "urgent care first"),
        ("completed", [{"event": "followup", "timestamp": None, "name": "consultation_form"}], None),
        (None, [], "You can book directly"),
        ("in_progress", [], "You can book directly"),
        ("awaiting_confirmation", [], "check the summary"),
        ("stopped", [], "You can book directly"),
    ],
)
def test_book_consultation_per_screening_status(status, expected_events, phrase):
    events, dispatcher = run(
        BookConsultation(), make_tracker("book me in", "book_consultation", slots={"screening_status": status})
    )
    assert events == expected_events
    if phrase:
        assert phrase in all_text(dispatcher)
    else:
        assert dispatcher.messages == []


# ---------------------------------------------------------------------------
# Session, start over, stop, fallback, questions about the treatment
# ---------------------------------------------------------------------------

CLINIC_SLOTS = {
    "clinic_name": SETTINGS.clinic_name,
    "clinic_phone": SETTINGS.phone,
    "emergency_number": SETTINGS.emergency_number,
}


def test_session_start_sets_clinic_slots_and_carries_answers_over():
    slots = {
        "consent_given": True,
        "rf_emergency": "none",
        "requested_slot": "patient_age",
        "session_started_metadata": {"x": 1},
    }
    events, _ = run(SessionStart(), make_tracker("hi", "greet", slots=slots))
    assert events[0]["event"] == "session_started"
    assert events[-1] == {
        "event": "action",
        "name": "action_listen",
        "policy": None,
        "confidence": None,
        "timestamp": None,
    }
    values = slot_values(events)
    assert {k: values[k] for k in CLINIC_SLOTS} == CLINIC_SLOTS
    assert values["consent_given"] is True and values["rf_emergency"] == "none"
    assert "requested_slot" not in values and "session_started_metadata" not in values


def test_session_start_uses_clinic_yml(clinic_file):
    clinic_file(clinic_name="Other Clinic", emergency_number="911")
    values = slot_values(run(SessionStart(), make_tracker("hi", "greet"))[0])
    assert values["clinic_name"] == "Other Clinic" and values["emergency_number"] == "911"


def test_start_over_resets_everything_but_the_clinic_slots():
    events, dispatcher = run(
        StartOver(), make_tracker("start over", "start_over", slots=CLEAR_ANSWERS, loop="screening_form")
    )
    assert events[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert events[1] == {"event": "reset_slots", "timestamp": None}
    assert slot_values(events[2:]) == CLINIC_SLOTS
    assert all(e["event"] == "slot" for e in events[2:])
    assert "start again" in all_text(dispatcher)


@pytest.mark.parametrize(
    "status, expected",
    [
        ("in_progress", "stopped"),
        (None, "stopped"),
        ("awaiting_confirmation", "stopped"),
        ("urgent_stop", None),
        ("completed", None),
    ],
)
def test_stop_screening(status, expected):
    events, dispatcher = run(
        StopScreening(), make_tracker("stop", "stop", slots={"screening_status": status}, loop="screening_form")
    )
    assert events[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert slot_values(events).get("screening_status") == expected
    assert f"call {SETTINGS.emergency_number}" in all_text(dispatcher)


def test_core_fallback_reverts_the_message():
    events, dispatcher = run(CoreFallback(), make_tracker("what's the weather", "out_of_scope"))
    assert events == [{"event": "rewind", "timestamp": None}]
    assert SETTINGS.phone in all_text(dispatcher)


@pytest.mark.parametrize(
    "text, status, expected",
    [
        ("looks good", "awaiting_confirmation", {"followup": "action_give_outcome"}),
        ("nope, I put the wrong pain score", "awaiting_confirmation", {"screening_status": "choosing_change"}),
        ("nothing, it's all correct", "choosing_change", {"screening_status": "awaiting_confirmation"}),
        ("my age is wrong", "choosing_change", {"followup": "screening_form"}),
    ],
)
def test_typed_replies_at_the_summary_and_what_to_change_always_move_on(text, status, expected):
    events, _ = run(ApplyCorrection(), make_tracker(text, INFORM, slots={**CLEAR_ANSWERS, "screening_status": status}))
    if "followup" in expected:
        assert {"event": "followup", "timestamp": None, "name": expected["followup"]} in events
    else:
        assert slot_values(events)["screening_status"] == expected["screening_status"]


@pytest.mark.parametrize(
    "text, intent", [("Dana Testperson", "bot_challenge"), ("Will Price", "ask_question"), ("Ivy Stone", "stop")]
)
def test_a_name_is_taken_as_given_whatever_the_intent(text, intent):
    events, dispatcher = run(ValidateConsultationForm(), consultation_tracker("contact_name", text, intent))
    assert contact_slots(events) == {"contact_name": text}


def test_a_question_in_the_booking_form_is_left_to_the_rules():
    events, _ = run(
        ValidateConsultationForm(), consultation_tracker("contact_name", "are you a real person?", "bot_challenge")
    )
    assert events == []


def test_contact_details_asked_at_most_twice_then_the_request_stops():
    events, _ = run(ValidateConsultationForm(), consultation_tracker("contact_details", "dunno"))
    assert slot_values(events)["retry_question"] == "contact_details"
    events, dispatcher = run(
        ValidateConsultationForm(),
        consultation_tracker("contact_details", "dunno", slots={"retry_question": "contact_details"}),
    )
    assert slot_values(events)["requested_slot"] is None  # the form ends; nothing is saved
    assert "stop the request" in all_text(dispatcher)


def test_a_refer_flag_in_the_booking_form_is_recorded_and_the_detail_asked_again():
    events, dispatcher = run(
        ValidateConsultationForm(),
        consultation_tracker("contact_name", "it's Sam, and my lip has gone numb lately", slots=CLEAR_ANSWERS),
    )
    slots = contact_slots(events)
    assert slots["rf_nerve"] == "yes" and slots["contact_name"] is None
    assert slots["screening_outcome"] == "needs_medical_review"
    assert "rf_nerve_signs" in slots["screening_reasons"]


def test_a_red_flag_mentioned_with_the_consent_yes_is_recorded():
    events, dispatcher = run(
        ValidateConsentForm(), consent_tracker("sure. btw ive had loads of nosebleeds lately", "affirm")
    )
    slots = slot_values(events)
    assert slots["consent_given"] is True and slots["rf_ent"] == "yes"


# ---------------------------------------------------------------------------
# What a message is, for the website widget (custom; docs/website-widget.md)
# ---------------------------------------------------------------------------


def custom_of(message: dict[str, Any]) -> dict[str, Any]:
    return message.get("custom") or {}


def test_the_red_flag_question_carries_its_list_and_progress():
    question = asked("rf_emergency")[-1]
    custom = custom_of(question)
    assert custom["progress"] == {"section": 1, "of": 4, "title": "Safety questions"}
    paragraphs = [b["paragraph"] for b in custom["blocks"] if "paragraph" in b]
    items = [b["list"] for b in custom["blocks"] if "list" in b]
    assert paragraphs == [
        "First, a few safety questions. Do you have any of these right now?",
        "If you do, please call 999 now.",
    ]
    assert len(items) == 1 and len(items[0]) == 5 and items[0][1] == "difficulty breathing or swallowing"
    assert "call" not in custom  # the footer has it; on SMS the question stays as written
    assert question["text"].count("•") == 5  # the text itself is unchanged for text channels


def test_questions_carry_their_section_and_only_name_several_questions_take_several():
    progress = {qid: custom_of(asked(qid, answers_until(qid))[-1])["progress"] for qid in ("tmd_chewing", "pregnancy")}
    assert progress == {
        "tmd_chewing": {"section": 2, "of": 4, "title": "Symptoms"},
        "pregnancy": {"section": 3, "of": 4, "title": "Pregnancy / breastfeeding"},
    }
    assert "select" not in custom_of(asked("bruxism", answers_until("bruxism"))[-1])
    treatments = asked("treatments_tried", answers_until("treatments_tried"))[-1]
    select = custom_of(treatments)["select"]
    assert select["several"] is True
    payloads = [b["payload"] for b in treatments["buttons"]]
    # "Nothing yet" and "Not sure" are offered buttons that answer on their own
    assert select["alone"] == ['/inform{"option": "nothing"}', '/inform{"option": "unsure"}']
    assert set(select["alone"]) <= set(payloads)
    assert "blocks" not in custom_of(treatments) and "call" not in custom_of(treatments)


def test_urgent_outcomes_are_alerts_of_their_level_with_only_configured_numbers_to_tap():
    _, emergency = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=OUTCOME_CASES["urgent_emergency"][0]))
    advice, closing = emergency.messages
    assert custom_of(advice) == {
        "kind": "alert",
        "level": "emergency",
        "call": [{"label": "Emergency services", "number": "999", "tel": "999"}],
    }
    assert custom_of(closing) == {
        "call": [{"label": "Example Jaw Clinic", "number": "+44 20 7946 0000", "tel": "+442079460000"}]
    }
    _, same_day = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=OUTCOME_CASES["urgent_same_day"][0]))
    assert custom_of(same_day.messages[0]) == {"kind": "alert", "level": "same_day", "call": []}


def test_the_summary_carries_its_answers_by_section_in_the_texts_order():
    _, dispatcher = run(ShowSummary(), make_tracker("no", DENY, slots=CLEAR_ANSWERS))
    text, custom = dispatcher.messages[0]["text"], custom_of(dispatcher.messages[0])
    assert custom["kind"] == "summary" and custom["heading"] == "Here is a summary of your answers:"
    assert [s["id"] for s in custom["sections"]] == ["red_flags", "symptoms", "pregnancy", "medical_history"]
    lines = [f"• {i['question']}: {i['answer']}" for s in custom["sections"] for i in s["items"]]
    assert lines == text.split("\n")[1:]  # the same answers as the text, none left out
    symptoms = custom["sections"][1]
    assert symptoms["title"] == "Symptoms"
    assert {"question": "Treatments already tried", "answer": "Night guard / splint"} in symptoms["items"]


def test_non_urgent_reasons_are_a_list_and_plain_messages_carry_nothing_extra():
    answers = {**CLEAR_ANSWERS, "pregnancy": "pregnant"}
    _, dispatcher = run(GiveOutcome(), make_tracker("yes", AFFIRM, slots=answers))
    blocks = custom_of(dispatcher.messages[0])["blocks"]
    assert blocks[0] == {"paragraph": tu.say("outcome.not_eligible_now.opening")}
    assert len(blocks[1]["list"]) == 1
    assert all(custom_of(m) == {} for m in dispatcher.messages[1:])


def test_distress_gives_the_crisis_lines_as_numbers_to_tap():
    custom = safety.crisis_alert()
    assert custom["kind"] == "alert" and custom["level"] == "emergency"
    assert [(c["label"], c["tel"]) for c in custom["call"]] == [
        ("Emergency services", "999"),
        ("Samaritans", "116123"),
        ("NHS 111, option 2", "111"),
    ]
    assert safety.advice_alert("same_day") == {"kind": "alert", "level": "same_day", "call": []}
