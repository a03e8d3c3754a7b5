"""Reading answers as people type them (clinical/typed_answers.py, clinical/answers.py)."""

from __future__ import annotations

import pytest

from clinical.answers import interpret
from clinical.questionnaire import UNSURE, load_questionnaire
from clinical.typed_answers import (
    fuzzy_medicines,
    is_hedged,
    leading_yes_no,
    read_consent,
    read_summary_reply,
)
from medical_nlu.pipeline import extract

Q = load_questionnaire()


def answer(question_id, text, intent=""):
    return interpret(Q.get(question_id), intent, extract(text), text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yup", "yes"),
        ("yeah, stiff every morning", "yes"),
        ("Yes, eating anything hard makes it worse", "yes"),
        ("erm yes", "yes"),
        ("nah", "no"),
        ("mm not really", "no"),
        ("nope never", "no"),
        ("I don't chew gum and I don't clench, so no", "no"),
        ("i grind yeah", "yes"),
        ("no idea", None),
        ("yes and no", None),
        ("not really sure", None),
        ("no problem", None),
    ],
)
def test_leading_and_trailing_answer_words(text, expected):
    assert leading_yes_no(text) == expected


@pytest.mark.parametrize("text", ["I think so", "kind of", "maybe", "probably", "i guess so", "sort of yes"])
def test_hedges_are_asked_once_more_never_no(text):
    assert is_hedged(text)
    result = answer("heart", text, "affirm")
    assert result.value is None and result.unclear_reason in ("hedge", "dont_know")


def test_a_yes_with_detail_is_not_hijacked_by_its_question_words():
    # DIET may call this a side-effects question; the leading "yes" answers.
    assert answer("allergy_toxin", "yes, I reacted badly to Dysport before", "ask_question").value == "yes"
    assert answer("tmd_chewing", "Yes, eating anything hard makes it worse", "ask_question").value == "yes"


@pytest.mark.parametrize(
    "question, text, expected",
    [
        ("patient_age", "forty two", 42),
        ("patient_age", "I'm forty-two", 42),
        ("patient_age", "55", 55),
        ("patient_age", "in my forties", None),
        ("patient_age", "about 40", None),
        ("patient_age", "40ish", None),
        ("pain_worst", "seven out of ten", 7),
        ("pain_worst", "8/10", 8),
        ("pain_worst", "about a 6", 6),
        ("pain_worst", "6-7", 7),  # the worst pain: the higher end of a range
        ("pain_worst", "between 6 and 8", 8),
        ("patient_age", "it's been hurting for 2 days", None),
        ("patient_age", "hang on 1 sec", None),
        ("patient_age", "x1", None),
        ("patient_age", "-5", None),
        ("patient_age", "nearly 50", None),
    ],
)
def test_numbers_are_read_never_guessed(question, text, expected):
    result = answer(question, text)
    assert result.value == expected
    if expected is None:
        assert result.unclear_reason in ("vague_number", "not_understood")


@pytest.mark.parametrize(
    "question, text, expected",
    [
        ("bruxism", "my partner hears me grinding in my sleep", "night"),
        ("bruxism", "I clench at my desk", "day"),
        ("bruxism", "grind at night and clench at work", "both"),
        ("pregnancy", "I'm male", "not_applicable"),
        ("pregnancy", "my period is late", "possibly_pregnant"),
        ("pregnancy", "not pregnant but breastfeeding", "breastfeeding"),
        ("tmd_pain_duration", "pretty much daily", "always"),
        ("tmd_pain_duration", "it comes and goes", "comes_and_goes"),
        ("daily_impact", "a lot, I can barely eat steak", "a_lot"),
        ("rf_gca", "yes and my vision's gone blurry", "vision"),
        ("rf_emergency", "none of those", "none"),
    ],
)
def test_option_words(question, text, expected):
    assert answer(question, text).value == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I don't take anything", []),
        ("nothing", []),
        ("no meds", []),
        ("warfrin and ibuprofin", ["warfarin", "ibuprofen"]),
        ("baclofen for my back", ["baclofen"]),
        ("I take warfarin and aspirin", ["warfarin", "aspirin"]),
        ("zorblax tablets", ["unknown"]),
    ],
)
def test_medicines(text, expected):
    assert sorted(answer("medicines", text).value) == sorted(expected)


def test_misspelt_medicines_need_a_close_match_and_the_same_first_letter():
    assert fuzzy_medicines(["amitriptylene"]) == [("amitriptylene", "amitriptyline")]
    assert fuzzy_medicines(["garden", "banana", "sertaline"]) == [("sertaline", "antidepressant")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no, I'd rather not share health details", False),
        ("sure, go ahead", True),
        ("that's fine", True),
        ("ok but I don't want you to keep my answers", False),
        ("no problem", True),
        ("what?", None),
        ("maybe", None),
    ],
)
def test_consent_in_a_sentence(text, expected):
    assert read_consent(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("looks good", "confirm"),
        ("yes all correct", "confirm"),
        ("nothing, it's all correct", "confirm"),
        ("no, the age is wrong", "change"),
        ("not quite, I need to change something", "change"),
        ("banana", None),
    ],
)
def test_summary_replies(text, expected):
    assert read_summary_reply(text) == expected


def test_an_unclear_answer_is_never_no():
    for text in ("I think so", "purple elephants", "maybe", "in my forties"):
        for qid in ("heart", "bleeding", "rf_locked_jaw", "patient_age"):
            assert answer(qid, text, "inform").value in (None, UNSURE), (qid, text)


def test_no_pattern_file_holds_a_yaml_backspace():
    # "\b" inside a double-quoted YAML string is a backspace, not a word boundary: a
    # pattern written that way silently never matches.
    from pathlib import Path

    import yaml

    for name in ("answer_words.yml", "safety.yml", "questionnaire.yml"):
        text = repr(yaml.safe_load((Path("clinical") / name).read_text(encoding="utf-8")))
        assert "\\x08" not in text, name


def test_none_with_an_unknown_medicine_keeps_the_unknown_medicine():
    assert answer("medicines", "none except zorblax").value == ["unknown"]


def test_nonsense_at_the_treatments_question_is_not_stored_as_a_treatment():
    assert answer("treatments_tried", "asdfgh qwerty", "nlu_fallback").value is None
    assert answer("treatments_tried", "acupuncture sessions", "inform").value == ["other"]
