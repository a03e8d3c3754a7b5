"""clinical/medicines.py: real medicine names beyond the lexicon, and the rules' view of them."""

from __future__ import annotations

import pytest

from clinical.lexicon import load_lexicon
from clinical.medicines import MedicineCategories, generic_name, looks_like_a_medicine, recognised_pieces
from clinical.rules import ELIGIBLE_FOR_CONSULTATION, NEEDS_MEDICAL_REVIEW, evaluate


@pytest.mark.parametrize(
    "name, generic",
    [("amlodipine", "amlodipine"), ("Norvasc", "amlodipine"), ("ozempic", "semaglutide"), ("ramipril", "ramipril")],
)
def test_brands_and_generics_resolve_to_the_generic_name(name, generic):
    assert generic_name(name.lower()) == generic


@pytest.mark.parametrize("word", ["flares", "pressure", "blood", "when", "zapain"])
def test_ordinary_words_and_made_up_names_are_not_medicines(word):
    assert generic_name(word) is None


def test_a_name_looks_like_a_medicine_only_when_it_is_no_known_word():
    assert looks_like_a_medicine("zorvatrine")
    assert not looks_like_a_medicine("flares")
    assert not looks_like_a_medicine("pressure")


def test_a_name_dictated_in_pieces_is_read_whole():
    assert {g for _, g in recognised_pieces("i take am lo dipine daily")} == {"amlodipine"}


def test_the_lexicon_category_wins_and_a_known_medicine_has_no_rule():
    categories = MedicineCategories(load_lexicon().medicine_categories)
    assert categories["warfarin"] == "blood_thinner"
    assert categories["amlodipine"] == "no_rule"
    assert categories.get("zorvatrine", "unknown") == "unknown"
    assert categories.get("unknown", "unknown") == "unknown"


def test_a_common_medicine_no_longer_sends_a_patient_to_review():
    assert evaluate({"medicines": ["amlodipine", "metformin"]}).outcome == ELIGIBLE_FOR_CONSULTATION
    assert evaluate({"medicines": ["unknown"]}).outcome == NEEDS_MEDICAL_REVIEW


@pytest.mark.parametrize(
    "medicine, reason",
    [("acenocoumarol", "bleeding"), ("procyclidine", "anticholinergic"), ("orphenadrine", "muscle_relaxant")],
)
def test_a_rule_category_is_listed_whole_so_the_public_list_never_shadows_it(medicine, reason):
    # Found by drug-named-entity-recognition too; the lexicon's category is read first.
    assert generic_name(medicine) is not None
    assert reason in evaluate({"medicines": [medicine]}).reasons
