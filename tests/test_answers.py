"""Tests for clinical/answers.py: one patient message -> one answer.

Entities always come from the real NLU pipeline (medical_nlu.pipeline.extract), so these
tests also catch a lexicon or pipeline change that breaks an answer. The intent is given
by hand, as DIET would classify it (see data/nlu.yml and docs/nlu-design.md). Hand-made
values are only used for button payloads.
"""

from __future__ import annotations

import pytest

from clinical.answers import find_corrections, interpret
from clinical.questionnaire import UNSURE, load_questionnaire

QUESTIONNAIRE = load_questionnaire()
AFFIRM, DENY, DONT_KNOW, INFORM = "affirm", "deny", "dont_know", "inform"


@pytest.fixture(scope="module")
def extract():
    """The spaCy pipeline takes a few seconds to build: load it once for this module."""
    from medical_nlu.pipeline import extract as _extract

    _extract("warm up")
    return _extract


@pytest.fixture(scope="module")
def answer(extract):
    def _answer(question_id, text, intent=INFORM):
        return interpret(QUESTIONNAIRE.get(question_id), intent, extract(text), text)

    return _answer


# ---------------------------------------------------------------------------
# yes / no questions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("question_id", ["skin_infection", "heart", "rf_locked_jaw", "bleeding"])
@pytest.mark.parametrize("text", ["nope", "not that I know of", "no"])
def test_bare_deny_on_yes_no_safety_question_is_no(answer, question_id, text):
    result = answer(question_id, text, DENY)
    assert result.value == "no"
    assert result.understood


@pytest.mark.parametrize("text", ["yes", "yep"])
def test_bare_affirm_on_yes_no_question_is_yes(answer, text):
    assert answer("heart", text, AFFIRM).value == "yes"


def test_no_allergies_answers_toxin_allergy_no(answer):
    assert answer("allergy_toxin", "no allergies").value == "no"


def test_no_allergies_answers_milk_allergy_no(answer):
    assert answer("allergy_milk", "I don't have any allergies").value == "no"


def test_allergic_to_penicillin_is_not_understood_for_toxin_allergy(answer):
    result = answer("allergy_toxin", "I'm allergic to penicillin")
    assert result.value is None
    assert result.value not in ("yes", "no")
    assert result.unclear_reason == "not_understood"


def test_allergic_to_botox_is_yes(answer):
    assert answer("allergy_toxin", "I'm allergic to botox").value == "yes"


def test_mentioned_condition_beats_a_leading_no(answer):
    # "no, but I do have asthma": the named condition wins over the bare "no".
    assert answer("swallow_breath", "no, but I have asthma", DENY).value == "yes"


def test_negated_condition_is_no(answer):
    assert answer("heart", "no heart problems").value == "no"


def test_blood_thinner_named_answers_bleeding_yes(answer):
    assert answer("bleeding", "I'm on warfarin").value == "yes"


def test_not_on_blood_thinners_answers_bleeding_no(answer):
    assert answer("bleeding", "I'm not on blood thinners").value == "no"


def test_unrelated_statement_on_yes_no_is_not_understood_not_no(answer):
    result = answer("rf_nerve", "my jaw hurts in the morning")
    assert result.value is None
    assert result.unclear_reason == "not_understood"


@pytest.mark.parametrize("text, expected", [("1", "yes"), ("2", "no"), ("Yes!", "yes"), ("no.", "no")])
def test_typed_option_numbers_and_words_on_yes_no(answer, text, expected):
    assert answer("rf_abscess", text).value == expected


# ---------------------------------------------------------------------------
# don't know -> unclear (the caller records "unsure" after one more try)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question_id", ["heart", "rf_emergency", "pregnancy", "medicines", "patient_age", "last_toxin", "tmd_chewing"]
)
@pytest.mark.parametrize("text", ["maybe", "I don't know", "not sure"])
def test_dont_know_is_unclear_with_reason_dont_know(answer, question_id, text):
    result = answer(question_id, text, DONT_KNOW)
    assert result.value is None
    assert not result.understood
    assert result.unclear_reason == "dont_know"


def test_not_sure_if_pregnant_is_possibly_pregnant_not_does_not_apply(answer):
    # Not knowing whether one is pregnant is what "possibly pregnant" means (it defers
    # treatment, like pregnancy); it must never become "does not apply".
    result = answer("pregnancy", "I'm not sure if I'm pregnant", DONT_KNOW)
    assert result.value == "possibly_pregnant"


def test_not_sure_if_allergic_to_botox_is_unclear_not_no(answer):
    result = answer("allergy_toxin", "not sure if I'm allergic to botox", DONT_KNOW)
    assert result.value is None
    assert result.unclear_reason == "dont_know"


# ---------------------------------------------------------------------------
# choice questions
# ---------------------------------------------------------------------------


def test_none_of_the_above_on_emergency_question_is_none(answer):
    assert answer("rf_emergency", "none of the above", DENY).value == "none"


def test_bare_yes_on_emergency_question_is_unspecified_emergency(answer):
    result = answer("rf_emergency", "yes", AFFIRM)
    assert result.value == "unspecified"
    # and it is an emergency, never ignored
    from clinical.rules import evaluate

    evaluation = evaluate({"rf_emergency": result.value})
    assert evaluation.outcome == "urgent_care"
    assert evaluation.urgent_tier == "emergency"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I have chest pain", "chest"),
        ("no chest pain but I can't breathe", "airway"),
        ("my face is swelling up", "swelling"),
        ("slurred speech", "neuro"),
    ],
)
def test_named_emergency_sign_picks_its_option(answer, text, expected):
    assert answer("rf_emergency", text).value == expected


def test_negated_emergency_sign_alone_means_none(answer):
    assert answer("rf_emergency", "no chest pain").value == "none"


@pytest.mark.parametrize("text, expected", [("1", "chest"), ("2", "airway"), ("None of these", "none")])
def test_typed_option_number_or_label_on_choice(answer, text, expected):
    assert answer("rf_emergency", text).value == expected


def test_typed_option_number_on_pregnancy(answer):
    assert answer("pregnancy", "2").value == "possibly_pregnant"


def test_im_not_pregnant_is_does_not_apply(answer):
    assert answer("pregnancy", "I'm not pregnant").value == "not_applicable"


def test_im_breastfeeding_is_breastfeeding(answer):
    assert answer("pregnancy", "I'm breastfeeding").value == "breastfeeding"


def test_not_pregnant_but_breastfeeding_is_breastfeeding(answer):
    assert answer("pregnancy", "not pregnant but breastfeeding").value == "breastfeeding"


def test_rf_gca_vision_change_picks_vision(answer):
    assert answer("rf_gca", "yes, and I have blurred vision").value == "vision"


def test_had_botox_2_months_ago_is_under_12_weeks(answer):
    assert answer("last_toxin", "had Botox for wrinkles 2 months ago").value == "under_12_weeks"


def test_had_botox_6_months_ago_is_12_weeks_or_more(answer):
    assert answer("last_toxin", "I had Botox about six months ago").value == "12_weeks_or_more"


def test_never_had_botox_is_never(answer):
    assert answer("last_toxin", "never had Botox").value == "never"


def test_bare_yes_to_last_toxin_asks_again(answer):
    # "yes" does not say when: never guessed.
    result = answer("last_toxin", "yes", AFFIRM)
    assert result.value is None
    assert result.unclear_reason == "not_understood"


def test_havent_had_botox_for_2_months_is_not_never(answer):
    result = answer("last_toxin", "I haven't had Botox for 2 months")
    assert result.value != "never"


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["I'm 17", "17", "aged 17", "seventeen"])
def test_age_17_is_read_as_17(answer, text):
    result = answer("patient_age", text)
    assert result.value == 17
    assert result.value is not True  # an int, not a bool


def test_17_years_old_is_read_as_17(answer):
    assert answer("patient_age", "I'm 17 years old").value == 17


@pytest.mark.parametrize("text", ["150", "I'm 150", "0"])
def test_age_out_of_range_is_unclear(answer, text):
    result = answer("patient_age", text)
    assert result.value is None
    assert result.unclear_reason == "out_of_range"


@pytest.mark.parametrize("text, expected", [("7/10", 7), ("about a 7", 7), ("0", 0), ("10", 10)])
def test_pain_score(answer, text, expected):
    assert answer("pain_worst", text).value == expected


def test_pain_score_11_is_out_of_range(answer):
    assert answer("pain_worst", "11").unclear_reason == "out_of_range"


def test_number_question_without_a_number_is_not_understood(answer):
    result = answer("patient_age", "rather not say")
    assert result.value is None
    assert result.unclear_reason == "not_understood"


# ---------------------------------------------------------------------------
# medicines
# ---------------------------------------------------------------------------


def test_warfarin_and_aspirin_are_listed_in_order(answer):
    assert answer("medicines", "I take warfarin and aspirin").value == ["warfarin", "aspirin"]


def test_unrecognised_medicine_is_unknown(answer):
    assert answer("medicines", "zorvatrine").value == ["unknown"]


def test_known_and_unrecognised_medicine_are_both_kept(answer):
    assert answer("medicines", "warfarin and zorvatrine").value == ["warfarin", "unknown"]


def test_a_medicine_outside_the_lexicon_is_stored_by_its_generic_name(answer):
    # drug-named-entity-recognition knows it (brand -> generic); no screening category.
    assert answer("medicines", "Norvasc for my blood pressure").value == ["amlodipine"]
    assert answer("medicines", "warfarin and lisinopril").value == ["warfarin", "lisinopril"]


def test_ordinary_words_around_medicines_are_not_unknown(answer):
    assert answer("medicines", "just paracetamol when it flares up").value == ["paracetamol"]
    assert answer("medicines", "amlodipine for my blood pressure").value == ["amlodipine"]


def test_repeated_medicine_is_listed_once(answer):
    assert answer("medicines", "warfarin, and coumadin at night").value == ["warfarin"]


@pytest.mark.parametrize("text", ["none", "no", "nothing"])
def test_no_medicines_is_empty_list(answer, text):
    assert answer("medicines", text, DENY).value == []


def test_medicines_dont_know_is_unclear(answer):
    assert answer("medicines", "I can't remember", DONT_KNOW).unclear_reason == "dont_know"


def test_paracetamol_is_a_recognised_medicine(answer):
    assert answer("medicines", "I take paracetamol").value == ["paracetamol"]


# ---------------------------------------------------------------------------
# treatments tried
# ---------------------------------------------------------------------------


def test_treatments_named(answer):
    assert answer("treatments_tried", "a night guard and jaw exercises").value == ["night_guard", "physiotherapy"]


@pytest.mark.parametrize(
    "text, treatments",
    [
        # what the website widget sends for several chosen options: their titles, comma-separated
        ("Night guard / splint, Physio / exercises, Pain relief", ["night_guard", "physiotherapy", "pain_relief"]),
        ("Night guard / splint, Pain relief", ["night_guard", "pain_relief"]),
        # typed, in words the training data does not have
        ("botox and a splint", ["botulinum_toxin", "night_guard"]),
        ("a mouthguard plus painkillers", ["night_guard", "pain_relief"]),
        ("tried physio, ice packs and cbt", ["physiotherapy", "heat_cold", "stress_management"]),
        ("ibuprofen & a bite guard, nothing else", ["pain_relief", "night_guard"]),
    ],
)
def test_several_treatments_in_one_reply(answer, text, treatments):
    assert sorted(answer("treatments_tried", text).value) == sorted(treatments)


def test_treatments_nothing_yet(answer):
    assert answer("treatments_tried", "nothing", DENY).value == ["nothing"]


# ---------------------------------------------------------------------------
# buttons (the only place hand-made values are used)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question_id, button, expected",
    [
        ("heart", "yes", "yes"),
        ("heart", "no", "no"),
        ("rf_emergency", "chest", "chest"),
        ("rf_emergency", "none", "none"),
        ("pregnancy", "breastfeeding", "breastfeeding"),
        ("last_toxin", "12_weeks_or_more", "12_weeks_or_more"),
        ("medicines", "none", []),
        ("treatments_tried", "nothing", ["nothing"]),
        ("treatments_tried", "night_guard", ["night_guard"]),
    ],
)
def test_valid_button_value(question_id, button, expected):
    result = interpret(QUESTIONNAIRE.get(question_id), INFORM, [], f"/{button}", button_value=button)
    assert result.value == expected


@pytest.mark.parametrize(
    "question_id, button",
    [
        ("heart", "maybe"),
        ("heart", "chest"),  # another question's option
        ("rf_emergency", "unspecified"),  # not a button
        ("rf_emergency", "banana"),
        ("pregnancy", "yes"),
        ("medicines", "warfarin"),  # medicines cannot be set by a payload
        ("patient_age", "17"),
    ],
)
def test_invalid_button_value_is_not_understood(question_id, button):
    result = interpret(QUESTIONNAIRE.get(question_id), INFORM, [], f"/{button}", button_value=button)
    assert result.value is None
    assert result.unclear_reason == "not_understood"


def test_unsure_button_is_recorded_unsure_never_no():
    result = interpret(QUESTIONNAIRE.get("heart"), INFORM, [], "", button_value=UNSURE)
    assert result.value == UNSURE


def test_button_value_wins_over_text_entities(extract):
    text = "I have chest pain"
    result = interpret(QUESTIONNAIRE.get("rf_emergency"), INFORM, extract(text), text, button_value="none")
    assert result.value == "none"


# ---------------------------------------------------------------------------
# corrections to earlier answers
# ---------------------------------------------------------------------------


def test_correction_to_breastfeeding(extract):
    answers = {"pregnancy": "not_applicable", "patient_age": 30, "medicines": ["warfarin"], "heart": "no"}
    changes = find_corrections(QUESTIONNAIRE.questions, answers, extract("actually I'm breastfeeding"))
    assert changes == {"pregnancy": "breastfeeding"}


def test_no_correction_for_unanswered_question(extract):
    changes = find_corrections(QUESTIONNAIRE.questions, {"patient_age": 30}, extract("actually I'm breastfeeding"))
    assert changes == {}


def test_no_correction_for_question_not_asked(extract):
    changes = find_corrections(
        QUESTIONNAIRE.questions, {"patient_age": 30, "rf_gca": "not_asked"}, extract("I have a tender scalp")
    )
    assert "rf_gca" not in changes


def test_new_medicine_is_added_to_existing_list(extract):
    changes = find_corrections(QUESTIONNAIRE.questions, {"medicines": ["warfarin"]}, extract("I also take baclofen"))
    assert changes == {"medicines": ["warfarin", "baclofen"]}


def test_medicine_already_listed_is_no_correction(extract):
    changes = find_corrections(QUESTIONNAIRE.questions, {"medicines": ["warfarin"]}, extract("I also take warfarin"))
    assert changes == {}


def test_age_correction(extract):
    text = "sorry, I'm 17"
    changes = find_corrections(QUESTIONNAIRE.questions, {"patient_age": 30}, extract(text), text)
    assert changes == {"patient_age": 17}


@pytest.mark.parametrize("text", ["2 years", "it's been 2 years now", "about 3 weeks", "7", "since I was 12 years old"])
def test_a_duration_or_bare_number_never_changes_the_age(extract, text):
    assert find_corrections(QUESTIONNAIRE.questions, {"patient_age": 44}, extract(text), text) == {}


def test_a_red_flag_word_in_a_remote_past_is_no_correction_of_a_red_flag_answer(extract):
    text = "my face swelled up after Botox in 2019"
    assert find_corrections(QUESTIONNAIRE.questions, {"rf_emergency": "none"}, extract(text), text) == {}


def test_a_statement_at_the_summary_corrects_the_pregnancy_answer(extract):
    text = "I'm feeding my baby my own milk"
    answers = {"pregnancy": "not_applicable"}
    assert find_corrections(QUESTIONNAIRE.questions, answers, extract(text), text, statement=True) == {
        "pregnancy": "breastfeeding"
    }


def test_a_medicine_given_up_is_taken_off_the_list(extract):
    text = "I no longer take ibuprofen"
    answers = {"medicines": ["ibuprofen", "warfarin"]}
    assert find_corrections(QUESTIONNAIRE.questions, answers, extract(text), text) == {"medicines": ["warfarin"]}


def test_bare_no_is_never_a_correction(extract):
    answers = {"heart": "yes", "bleeding": "yes", "pregnancy": "pregnant"}
    assert find_corrections(QUESTIONNAIRE.questions, answers, extract("no")) == {}


def test_blood_thinner_mention_corrects_medicines_and_bleeding(extract):
    changes = find_corrections(
        QUESTIONNAIRE.questions, {"medicines": [], "bleeding": "no"}, extract("oh, I take warfarin")
    )
    assert changes == {"medicines": ["warfarin"], "bleeding": "yes"}
