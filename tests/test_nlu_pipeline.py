"""Tests for medical_nlu/pipeline.py: lexicon entities, negation, durations, ages, numbers."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def extract():
    """The spaCy pipeline takes a few seconds to build: load it once for this module."""
    from medical_nlu.pipeline import extract as _extract

    _extract("warm up")
    return _extract


def _simple(entities):
    """(entity, value, negated) triples, in text order."""
    return [(e["entity"], e["value"], e["negated"]) for e in entities]


def _by_label(entities, label):
    return [e for e in entities if e["entity"] == label]


# ---------------------------------------------------------------------------
# empty input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", None])
def test_empty_or_whitespace_text_gives_no_entities(extract, text):
    assert extract(text) == []


def test_text_without_any_known_term_gives_no_entities(extract):
    assert extract("my jaw hurts when I wake up") == []


# ---------------------------------------------------------------------------
# entity shape
# ---------------------------------------------------------------------------


def test_entities_are_rasa_style_dicts_with_offsets_into_the_text(extract):
    text = "I'm 34 and take Warfarin since 2 months"
    entities = extract(text)
    assert _simple(entities) == [("age", 34, False), ("medicine", "warfarin", False), ("duration", 61, False)]
    for e in entities:
        assert text[e["start"] : e["end"]] == e["text"]
        assert e["extractor"] == "ClinicalEntityExtractor"
        assert e["confidence_entity"] == 1.0


def test_entities_are_sorted_by_position(extract):
    entities = extract("2 weeks ago I took aspirin and ibuprofen, I'm 40")
    starts = [e["start"] for e in entities]
    assert starts == sorted(starts)
    assert len(entities) >= 3


def test_matching_is_case_insensitive(extract):
    assert _simple(extract("WARFARIN")) == [("medicine", "warfarin", False)]


@pytest.mark.parametrize(
    "text, label, value",
    [
        ("coumadin", "medicine", "warfarin"),
        ("eliquis", "medicine", "apixaban"),
        ("lioresal", "medicine", "baclofen"),
        ("I have myasthenia gravis", "condition", "myasthenia_gravis"),
        ("I'm trying for a baby", "pregnancy", "trying_to_conceive"),
        ("I had Dysport", "treatment", "botulinum_toxin"),
        ("my jaw is locked", "symptom", "locked_jaw"),
    ],
)
def test_synonym_maps_to_canonical_id(extract, text, label, value):
    assert (label, value, False) in _simple(extract(text))


# ---------------------------------------------------------------------------
# negation
# ---------------------------------------------------------------------------


def test_negation_no_fever_but_warfarin_negates_fever_only(extract):
    assert _simple(extract("no fever but I take warfarin")) == [
        ("symptom", "fever", True),
        ("medicine", "warfarin", False),
    ]


def test_negation_not_on_blood_thinners(extract):
    assert _simple(extract("I'm not on blood thinners")) == [("medicine", "blood_thinner", True)]


def test_negation_never_had_botox(extract):
    assert _simple(extract("never had botox")) == [("treatment", "botulinum_toxin", True)]


def test_negation_contraction_dont_take(extract):
    assert _simple(extract("I don't take warfarin")) == [("medicine", "warfarin", True)]


def test_negation_no_allergies(extract):
    assert _simple(extract("no allergies")) == [("condition", "allergy", True)]


def test_negation_without(extract):
    assert _simple(extract("without asthma")) == [("condition", "asthma", True)]


def test_negation_after_term_free(extract):
    assert _simple(extract("fever free")) == [("symptom", "fever", True)]


def test_no_negation_cue_means_not_negated(extract):
    assert _simple(extract("I have asthma")) == [("condition", "asthma", False)]


def test_negation_stops_at_comma_clause_break(extract):
    assert _simple(extract("no fever, I have lost weight")) == [
        ("symptom", "fever", True),
        ("symptom", "weight_loss", False),
    ]


def test_negation_after_comma_applies_to_later_term_only(extract):
    assert _simple(extract("I take warfarin, not aspirin")) == [
        ("medicine", "warfarin", False),
        ("medicine", "aspirin", True),
    ]


def test_negation_applies_to_each_term_in_neither_nor(extract):
    assert _simple(extract("neither pregnant nor breastfeeding")) == [
        ("pregnancy", "pregnant", True),
        ("pregnancy", "breastfeeding", True),
    ]


# ---------------------------------------------------------------------------
# durations (whole days)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, days",
    [
        ("2 months ago", 61),
        ("three weeks", 21),
        ("a couple of years", 730),
        ("yesterday", 1),
        ("12 weeks ago", 84),
        ("84 days ago", 84),
        ("a fortnight ago", 14),
        ("last week", 7),
        ("six months", 183),
        ("2 and a half weeks", 18),
        ("half a year", 183),
        ("1.5 years", 548),
    ],
)
def test_duration_in_days(extract, text, days):
    assert _simple(extract(text)) == [("duration", days, False)]


def test_duration_inside_a_sentence_keeps_other_entities(extract):
    entities = extract("had Botox for wrinkles 2 months ago")
    assert _simple(entities) == [("treatment", "botulinum_toxin", False), ("duration", 61, False)]


def test_duration_a_year_and_a_half_is_548_days(extract):
    assert _simple(extract("a year and a half")) == [("duration", 548, False)]


# ---------------------------------------------------------------------------
# ages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["I'm 17", "I am 17", "im 17", "aged 17", "age: 17", "17 yo", "17 y/o"])
def test_age_phrase_gives_one_age_entity(extract, text):
    assert _simple(extract(text)) == [("age", 17, False)]


@pytest.mark.parametrize("text", ["17 years old", "I'm 17 years old"])
def test_age_years_old_gives_age_not_duration(extract, text):
    assert _simple(extract(text)) == [("age", 17, False)]


def test_bare_number_is_a_number_not_an_age(extract):
    assert _simple(extract("17")) == [("number", 17, False)]


# ---------------------------------------------------------------------------
# numbers and scores
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [("7/10", 7), ("7 / 10", 7), ("7 out of 10", 7), ("about a 7", 7), ("seven", 7), ("10", 10), ("0", 0)],
)
def test_number_score(extract, text, value):
    assert _simple(extract(text)) == [("number", value, False)]


def test_number_inside_a_word_or_decimal_is_ignored(extract):
    assert _by_label(extract("abc123 and 3.5"), "number") == []


# ---------------------------------------------------------------------------
# longest match wins; whole tokens only
# ---------------------------------------------------------------------------


def test_longest_match_heart_attack_is_one_condition(extract):
    entities = extract("I had a heart attack")
    assert _simple(entities) == [("condition", "heart_disease", False)]
    assert entities[0]["text"] == "heart attack"


def test_longest_match_low_dose_aspirin_is_one_medicine(extract):
    entities = extract("low-dose aspirin")
    assert _simple(entities) == [("medicine", "aspirin", False)]
    assert entities[0]["text"] == "low-dose aspirin"


def test_longest_match_allergic_to_botox_is_toxin_allergy_not_allergy_plus_botox(extract):
    assert _simple(extract("I'm allergic to botox")) == [("condition", "toxin_allergy", False)]


@pytest.mark.parametrize(
    "text, must_not_match",
    [
        ("somatic pain", "carisoprodol"),  # "soma"
        ("I also take baclofen", "motor_neurone_disease"),  # "als"
        ("my office is nice", "heat_cold"),  # "ice"
        ("on the campus", "abscess"),  # "pus"
        ("a lumpy mattress", "neck_lump"),  # "lump"
        ("I'm a clicker", "clicking"),  # "click"
    ],
)
def test_whole_token_matching_ignores_terms_inside_words(extract, text, must_not_match):
    assert must_not_match not in [e["value"] for e in extract(text)]


def test_whole_token_soma_alone_does_match(extract):
    # Guards the test above: the term itself is recognised when it is a whole word.
    assert ("medicine", "carisoprodol", False) in _simple(extract("I take soma"))


def test_paracetamol_is_extracted_as_a_medicine(extract):
    assert ("medicine", "paracetamol", False) in _simple(extract("I take paracetamol"))
