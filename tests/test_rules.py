"""Tests for clinical/rules.py: the screening rules in clinical/outcome_rules.yml.

Expected outcomes are written out here from /work/shared/clinical-reference.md (the
clinical source of truth), not read back from outcome_rules.yml, so a rule whose outcome drifts
from the reference fails a test.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from clinical.answers import interpret
from clinical.clinic import load_clinic_settings
from clinical.questionnaire import load_questionnaire
from clinical.rules import (
    ELIGIBLE_FOR_CONSULTATION,
    NEEDS_MEDICAL_REVIEW,
    NOT_ELIGIBLE_NOW,
    UNSURE,
    URGENT_CARE,
    evaluate,
    load_rulebook,
    pain_category,
    tmd_screener_positive,
    tmd_screener_score,
)

CLINICAL_DIR = Path(__file__).resolve().parent.parent / "clinical"
PROJECT_DIR = CLINICAL_DIR.parent

EMERGENCY, SAME_DAY = "emergency", "same_day"

# rule id -> (minimal answers that trigger only this rule, outcome per the reference, urgent tier)
RULE_CASES = {
    # section 2, emergency red flags
    "rf_cardiac": ({"rf_emergency": "chest"}, URGENT_CARE, EMERGENCY),
    "rf_airway": ({"rf_emergency": "airway"}, URGENT_CARE, EMERGENCY),
    "rf_spreading_swelling": ({"rf_emergency": "swelling"}, URGENT_CARE, EMERGENCY),
    "rf_jaw_injury": ({"rf_emergency": "injury"}, URGENT_CARE, EMERGENCY),
    "rf_neurological": ({"rf_emergency": "neuro"}, URGENT_CARE, EMERGENCY),
    "rf_emergency_sign": ({"rf_emergency": "unspecified"}, URGENT_CARE, EMERGENCY),
    "rf_gca_vision": ({"patient_age": 62, "rf_gca": "vision"}, URGENT_CARE, EMERGENCY),
    # section 2, same-day red flags
    "rf_giant_cell_arteritis": ({"patient_age": 62, "rf_gca": "yes"}, URGENT_CARE, SAME_DAY),
    "rf_jaw_locked": ({"rf_locked_jaw": "yes"}, URGENT_CARE, SAME_DAY),
    "rf_dental_abscess": ({"rf_abscess": "yes"}, URGENT_CARE, SAME_DAY),
    # section 2, refer before any cosmetic pathway
    "rf_systemic_signs": ({"rf_systemic": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "rf_nerve_signs": ({"rf_nerve": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "rf_ear_nose_signs": ({"rf_ent": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "rf_rheumatic_disease": ({"rf_rheumatic": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    # section 4
    "pregnancy": ({"pregnancy": "pregnant"}, NOT_ELIGIBLE_NOW, None),
    "breastfeeding": ({"pregnancy": "breastfeeding"}, NOT_ELIGIBLE_NOW, None),
    # section 5
    "under_18": ({"patient_age": 16}, NOT_ELIGIBLE_NOW, None),
    "allergy_toxin": ({"allergy_toxin": "yes"}, NOT_ELIGIBLE_NOW, None),
    "injection_site_infection": ({"skin_infection": "yes"}, NOT_ELIGIBLE_NOW, None),
    "recent_toxin": ({"last_toxin": "under_12_weeks"}, NOT_ELIGIBLE_NOW, None),
    "allergy_milk_protein": ({"allergy_milk": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "neuromuscular": ({"neuromuscular": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "swallow_breath": ({"swallow_breath": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "aminoglycoside": ({"medicines": ["tobramycin"]}, NEEDS_MEDICAL_REVIEW, None),
    "muscle_relaxant": ({"medicines": ["tizanidine"]}, NEEDS_MEDICAL_REVIEW, None),
    "anticholinergic": ({"medicines": ["hyoscine"]}, NEEDS_MEDICAL_REVIEW, None),
    "bleeding": ({"bleeding": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "medicine_unrecognised": ({"medicines": ["unknown"]}, NEEDS_MEDICAL_REVIEW, None),
    "heart": ({"heart": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "surgery_planned": ({"surgery": "yes"}, NEEDS_MEDICAL_REVIEW, None),
    "facial_palsy": ({"facial_palsy": "yes"}, NEEDS_MEDICAL_REVIEW, None),
}

# An answer set that fires nothing: every safety question answered "no" / "does not apply".
ALL_CLEAR = {
    "rf_emergency": "none",
    "patient_age": 35,
    "rf_gca": "not_asked",
    "rf_locked_jaw": "no",
    "rf_abscess": "no",
    "rf_systemic": "no",
    "rf_nerve": "no",
    "rf_ent": "no",
    "rf_rheumatic": "no",
    "pregnancy": "not_applicable",
    "allergy_toxin": "no",
    "allergy_milk": "no",
    "skin_infection": "no",
    "neuromuscular": "no",
    "swallow_breath": "no",
    "last_toxin": "never",
    "toxin_product": "not_asked",
    "medicines": [],
    "bleeding": "no",
    "heart": "no",
    "surgery": "no",
    "facial_palsy": "no",
}

NEVER_SAY = re.compile(r"\byou are eligible\b|\bstop taking\b|\bstop your\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def extract():
    """The spaCy pipeline takes a few seconds to build: load it once for this module."""
    from medical_nlu.pipeline import extract as _extract

    _extract("warm up")
    return _extract


# ---------------------------------------------------------------------------
# Every rule fires on its own
# ---------------------------------------------------------------------------


def test_rule_cases_cover_every_rule_in_outcome_rules_yml():
    rule_ids = {r.id for r in load_rulebook().rules}
    assert set(RULE_CASES) == rule_ids, (
        f"rules without a test: {sorted(rule_ids - set(RULE_CASES))}; "
        f"tests for rules that no longer exist: {sorted(set(RULE_CASES) - rule_ids)}"
    )


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_fires_alone_with_reference_outcome(rule_id):
    answers, outcome, tier = RULE_CASES[rule_id]
    result = evaluate(answers)
    assert result.reasons == [rule_id]
    assert result.outcome == outcome
    assert result.urgent_tier == tier
    assert result.stops_questionnaire is (outcome == URGENT_CARE)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_also_fires_among_all_clear_answers(rule_id):
    answers, outcome, _ = RULE_CASES[rule_id]
    result = evaluate({**ALL_CLEAR, **answers})
    assert result.reasons == [rule_id]
    assert result.outcome == outcome


def test_all_clear_answers_fire_nothing_and_are_eligible_for_consultation():
    result = evaluate(ALL_CLEAR)
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION
    assert result.reasons == []
    assert result.urgent_tier is None
    assert not result.stops_questionnaire


def test_empty_answers_are_eligible_for_consultation():
    result = evaluate({})
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION
    assert result.reasons == []


@pytest.mark.parametrize("value", ["possibly_pregnant", "trying_to_conceive"])
def test_possible_pregnancy_and_trying_to_conceive_fire_pregnancy_rule(value):
    result = evaluate({"pregnancy": value})
    assert result.reasons == ["pregnancy"]
    assert result.outcome == NOT_ELIGIBLE_NOW


def test_pregnancy_not_applicable_fires_nothing():
    assert evaluate({"pregnancy": "not_applicable"}).reasons == []


@pytest.mark.parametrize("value", ["never", "12_weeks_or_more"])
def test_no_recent_toxin_when_never_or_12_weeks_or_more(value):
    assert evaluate({"last_toxin": value}).reasons == []


def test_symptom_answers_alone_never_block_a_consultation():
    symptoms = {
        "tmd_pain_duration": "always",
        "tmd_morning_stiffness": "yes",
        "tmd_chewing": "yes",
        "tmd_opening": "yes",
        "tmd_habits": "yes",
        "tmd_other_activities": "yes",
        "pain_worst": 10,
        "problem_duration": "over_a_year",
        "bruxism": "both",
        "temple_headaches": "yes",
        "clicking_locking": "both",
        "treatments_tried": ["nothing"],
        "daily_impact": "a_lot",
    }
    result = evaluate({**ALL_CLEAR, **symptoms})
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION
    assert result.reasons == []


# ---------------------------------------------------------------------------
# Precedence and reasons
# ---------------------------------------------------------------------------

ONE_RULE_PER_OUTCOME = {
    URGENT_CARE: ("rf_jaw_locked", {"rf_locked_jaw": "yes"}),
    NOT_ELIGIBLE_NOW: ("allergy_toxin", {"allergy_toxin": "yes"}),
    NEEDS_MEDICAL_REVIEW: ("heart", {"heart": "yes"}),
}
PRECEDENCE = [URGENT_CARE, NOT_ELIGIBLE_NOW, NEEDS_MEDICAL_REVIEW, ELIGIBLE_FOR_CONSULTATION]


@pytest.mark.parametrize(
    "outcomes",
    [c for n in (2, 3) for c in itertools.combinations(ONE_RULE_PER_OUTCOME, n)],
    ids=lambda c: "+".join(c),
)
def test_most_serious_outcome_wins_and_every_fired_rule_is_a_reason(outcomes):
    answers, expected_reasons = {}, set()
    for outcome in outcomes:
        rule_id, rule_answers = ONE_RULE_PER_OUTCOME[outcome]
        answers.update(rule_answers)
        expected_reasons.add(rule_id)
    result = evaluate(answers)
    assert result.outcome == min(outcomes, key=PRECEDENCE.index)
    assert set(result.reasons) == expected_reasons
    assert len(result.reasons) == len(expected_reasons)


def test_many_rules_across_all_outcomes_are_all_kept_as_reasons():
    answers = {
        "rf_emergency": "chest",  # urgent (emergency)
        "rf_systemic": "yes",  # review
        "pregnancy": "pregnant",  # not eligible now
        "patient_age": 17,  # not eligible now
        "medicines": ["warfarin", "baclofen"],  # review x2
        "bleeding": "yes",  # same rule as warfarin: fires once
        "heart": UNSURE,  # unsure -> review
    }
    result = evaluate(answers)
    assert result.outcome == URGENT_CARE
    assert sorted(result.reasons) == sorted(
        [
            "rf_cardiac",
            "rf_systemic_signs",
            "pregnancy",
            "under_18",
            "bleeding",
            "muscle_relaxant",
            "unsure_heart",
        ]
    )


def test_not_eligible_beats_needs_review_and_unsure():
    result = evaluate({"last_toxin": "under_12_weeks", "medicines": ["warfarin"], "heart": UNSURE})
    assert result.outcome == NOT_ELIGIBLE_NOW
    assert sorted(result.reasons) == ["bleeding", "recent_toxin", "unsure_heart"]


def test_emergency_tier_wins_over_same_day_tier():
    result = evaluate({"rf_emergency": "airway", "rf_locked_jaw": "yes", "rf_abscess": "yes"})
    assert result.outcome == URGENT_CARE
    assert result.urgent_tier == EMERGENCY
    assert sorted(result.reasons) == ["rf_airway", "rf_dental_abscess", "rf_jaw_locked"]


def test_same_day_tier_when_only_same_day_rules_fire():
    result = evaluate({"rf_locked_jaw": "yes", "pregnancy": "pregnant"})
    assert result.outcome == URGENT_CARE
    assert result.urgent_tier == SAME_DAY


def test_explanations_are_listed_most_serious_first():
    result = evaluate({"heart": "yes", "allergy_toxin": "yes", "rf_abscess": "yes"})
    book = load_rulebook()
    assert result.explanations() == [
        book.rule("rf_dental_abscess").patient_text,
        book.rule("allergy_toxin").patient_text,
        book.rule("heart").patient_text,
    ]


# ---------------------------------------------------------------------------
# Unsure answers
# ---------------------------------------------------------------------------

SAFETY_QUESTIONS = [q.id for q in load_questionnaire().questions if q.safety]
SYMPTOM_QUESTIONS = [q.id for q in load_questionnaire().questions if q.section == "symptoms"]


def test_reference_safety_questions_are_marked_safety():
    # Red flags, pregnancy and the medical-history contraindications must never
    # have an unclear answer treated as "no".
    expected = {
        "rf_emergency",
        "patient_age",
        "rf_gca",
        "rf_locked_jaw",
        "rf_abscess",
        "rf_systemic",
        "rf_nerve",
        "rf_ent",
        "rf_rheumatic",
        "pregnancy",
        "allergy_toxin",
        "allergy_milk",
        "skin_infection",
        "neuromuscular",
        "swallow_breath",
        "last_toxin",
        "medicines",
        "bleeding",
        "heart",
        "surgery",
        "facial_palsy",
    }
    assert expected <= set(SAFETY_QUESTIONS)
    assert not set(SYMPTOM_QUESTIONS) & set(SAFETY_QUESTIONS)


@pytest.mark.parametrize("question_id", SAFETY_QUESTIONS)
def test_unsure_safety_answer_fires_unsure_rule_for_review(question_id):
    result = evaluate({question_id: UNSURE})
    assert result.reasons == [f"unsure_{question_id}"]
    assert result.outcome == NEEDS_MEDICAL_REVIEW


@pytest.mark.parametrize("question_id", SAFETY_QUESTIONS)
def test_unsure_safety_answer_is_never_treated_as_no(question_id):
    # Among otherwise all-clear answers, replacing the "no" with "unsure" must
    # change the outcome away from eligible.
    result = evaluate({**ALL_CLEAR, question_id: UNSURE})
    assert result.outcome != ELIGIBLE_FOR_CONSULTATION
    assert f"unsure_{question_id}" in result.reasons


@pytest.mark.parametrize("question_id", SYMPTOM_QUESTIONS)
def test_unsure_symptom_answer_fires_nothing(question_id):
    result = evaluate({question_id: UNSURE})
    assert result.reasons == []
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION


def test_unsure_does_not_satisfy_the_rule_it_is_about():
    # "unsure" about bleeding fires only the unsure rule, not the bleeding rule itself.
    assert evaluate({"bleeding": UNSURE}).reasons == ["unsure_bleeding"]
    assert evaluate({"patient_age": UNSURE}).reasons == ["unsure_patient_age"]


def test_unsure_red_flag_wording_includes_emergency_advice_when_given():
    advice = "call 999 now or go to A&E"
    result = evaluate({"rf_emergency": UNSURE}, emergency_advice=advice)
    (text,) = result.explanations()
    assert advice in text
    assert "emergency warning signs right now" in text  # the question's summary


def test_unsure_red_flag_wording_without_advice_uses_plain_template():
    (text,) = evaluate({"rf_locked_jaw": UNSURE}).explanations()
    assert "practitioner will go through this" in text
    assert "{" not in text and "}" not in text


def test_unsure_medical_history_wording_never_carries_emergency_advice():
    advice = "call 999 now"
    (text,) = evaluate({"bleeding": UNSURE}, emergency_advice=advice).explanations()
    assert advice not in text
    assert "practitioner will go through this" in text


# ---------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------


def test_last_toxin_84_days_ago_is_12_weeks_or_more_and_not_recent(extract):
    question = load_questionnaire().get("last_toxin")
    text = "my last Botox was 84 days ago"
    entities = extract(text)
    assert [e["value"] for e in entities if e["entity"] == "duration"] == [84]
    answer = interpret(question, "inform", entities, text)
    assert answer.value == "12_weeks_or_more"
    assert "recent_toxin" not in evaluate({"last_toxin": answer.value}).reasons


def test_last_toxin_83_days_ago_is_under_12_weeks_and_recent(extract):
    question = load_questionnaire().get("last_toxin")
    text = "my last Botox was 83 days ago"
    entities = extract(text)
    assert [e["value"] for e in entities if e["entity"] == "duration"] == [83]
    answer = interpret(question, "inform", entities, text)
    assert answer.value == "under_12_weeks"
    result = evaluate({"last_toxin": answer.value})
    assert result.reasons == ["recent_toxin"]
    assert result.outcome == NOT_ELIGIBLE_NOW


def test_age_exactly_18_is_not_under_18():
    assert evaluate({"patient_age": 18}).reasons == []


def test_age_17_is_under_18():
    result = evaluate({"patient_age": 17})
    assert result.reasons == ["under_18"]
    assert result.outcome == NOT_ELIGIBLE_NOW


def test_age_50_with_temple_headache_does_not_fire_giant_cell_arteritis():
    result = evaluate({"patient_age": 50, "rf_gca": "yes"})
    assert result.reasons == []
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION


def test_age_51_with_temple_headache_fires_giant_cell_arteritis_same_day():
    result = evaluate({"patient_age": 51, "rf_gca": "yes"})
    assert result.reasons == ["rf_giant_cell_arteritis"]
    assert result.outcome == URGENT_CARE
    assert result.urgent_tier == SAME_DAY


def test_gca_with_vision_change_is_an_emergency():
    result = evaluate({"patient_age": 51, "rf_gca": "vision"})
    assert result.reasons == ["rf_gca_vision"]
    assert result.outcome == URGENT_CARE
    assert result.urgent_tier == EMERGENCY


def test_gca_question_only_asked_over_50():
    questionnaire = load_questionnaire()
    gca = questionnaire.get("rf_gca")
    assert not questionnaire.is_applicable(gca, {"patient_age": 50})
    assert questionnaire.is_applicable(gca, {"patient_age": 51})


# ---------------------------------------------------------------------------
# Medicines and their categories
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "medicines, expected_reasons",
    [
        (["warfarin"], ["bleeding"]),
        (["aspirin"], ["bleeding"]),
        (["blood_thinner"], ["bleeding"]),
        (["gentamicin"], ["aminoglycoside"]),
        (["antibiotic_injection"], ["aminoglycoside"]),
        (["baclofen"], ["muscle_relaxant"]),
        (["oxybutynin"], ["anticholinergic"]),
        (["unknown"], ["medicine_unrecognised"]),
        (["zorvatrine"], ["medicine_unrecognised"]),  # neither in the lexicon nor a known medicine
        (["lisinopril"], []),  # a known medicine (drug-named-entity-recognition) with no rule
        (["paracetamol"], []),
        (["paracetamol", "ibuprofen", "vitamins"], []),
        ([], []),
        (
            ["warfarin", "gentamicin", "baclofen", "oxybutynin", "unknown"],
            ["aminoglycoside", "anticholinergic", "bleeding", "medicine_unrecognised", "muscle_relaxant"],
        ),
    ],
)
def test_medicine_categories_fire_their_rules(medicines, expected_reasons):
    result = evaluate({"medicines": medicines})
    assert sorted(result.reasons) == expected_reasons
    assert result.outcome == (NEEDS_MEDICAL_REVIEW if expected_reasons else ELIGIBLE_FOR_CONSULTATION)


def test_bleeding_rule_fires_once_for_both_question_and_medicine():
    result = evaluate({"bleeding": "yes", "medicines": ["warfarin", "apixaban"]})
    assert result.reasons == ["bleeding"]


# ---------------------------------------------------------------------------
# Clinic overrides
# ---------------------------------------------------------------------------


def test_breastfeeding_can_be_overridden_to_needs_medical_review():
    overrides = {"breastfeeding": {"outcome": NEEDS_MEDICAL_REVIEW}}
    result = evaluate({"pregnancy": "breastfeeding"}, overrides=overrides)
    assert result.outcome == NEEDS_MEDICAL_REVIEW
    assert result.reasons == ["breastfeeding"]


def test_breastfeeding_override_to_eligible_fires_but_does_not_block():
    overrides = {"breastfeeding": {"outcome": ELIGIBLE_FOR_CONSULTATION}}
    result = evaluate({"pregnancy": "breastfeeding"}, overrides=overrides)
    assert result.outcome == ELIGIBLE_FOR_CONSULTATION
    assert result.reasons == ["breastfeeding"]


def test_override_can_change_patient_text():
    overrides = {"breastfeeding": {"outcome": NEEDS_MEDICAL_REVIEW, "patient_text": "Custom wording."}}
    result = evaluate({"pregnancy": "breastfeeding"}, overrides=overrides)
    assert result.explanations() == ["Custom wording."]


def test_override_does_not_change_the_shared_rulebook():
    evaluate({"pregnancy": "breastfeeding"}, overrides={"breastfeeding": {"outcome": NEEDS_MEDICAL_REVIEW}})
    assert evaluate({"pregnancy": "breastfeeding"}).outcome == NOT_ELIGIBLE_NOW
    assert load_rulebook().rule("breastfeeding").outcome == NOT_ELIGIBLE_NOW


def test_override_does_not_affect_pregnancy_rule():
    overrides = {"breastfeeding": {"outcome": NEEDS_MEDICAL_REVIEW}}
    assert evaluate({"pregnancy": "pregnant"}, overrides=overrides).outcome == NOT_ELIGIBLE_NOW


@pytest.mark.parametrize("rule_id", ["rf_cardiac", "pregnancy", "under_18", "allergy_toxin"])
def test_override_of_non_configurable_rule_is_refused(rule_id):
    with pytest.raises(ValueError, match="not configurable"):
        evaluate({}, overrides={rule_id: {"outcome": NEEDS_MEDICAL_REVIEW}})


def test_override_of_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        evaluate({}, overrides={"no_such_rule": {"outcome": NEEDS_MEDICAL_REVIEW}})


@pytest.mark.parametrize("outcome", [URGENT_CARE, "maybe_later"])
def test_override_to_urgent_care_or_unknown_outcome_is_refused(outcome):
    with pytest.raises(ValueError, match="not allowed"):
        evaluate({}, overrides={"breastfeeding": {"outcome": outcome}})


def test_only_breastfeeding_is_clinic_configurable():
    # The reference names breastfeeding as the clinic's call; nothing else may be changed.
    assert [r.id for r in load_rulebook().rules if r.configurable] == ["breastfeeding"]


def test_clinic_settings_with_bad_override_fail_at_load(tmp_path):
    raw = yaml.safe_load((PROJECT_DIR / "clinic.yml").read_text(encoding="utf-8"))
    raw["rule_overrides"] = {"rf_cardiac": {"outcome": ELIGIBLE_FOR_CONSULTATION}}
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="not configurable"):
        load_clinic_settings(path)


def test_clinic_settings_with_breastfeeding_override_load(tmp_path):
    raw = yaml.safe_load((PROJECT_DIR / "clinic.yml").read_text(encoding="utf-8"))
    raw["rule_overrides"] = {"breastfeeding": {"outcome": NEEDS_MEDICAL_REVIEW}}
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = load_clinic_settings(path)
    result = evaluate({"pregnancy": "breastfeeding"}, overrides=settings.rule_overrides)
    assert result.outcome == NEEDS_MEDICAL_REVIEW


# ---------------------------------------------------------------------------
# TMD Pain Screener and pain scale
# ---------------------------------------------------------------------------


def _tmd(duration="none", morning="no", chewing="no", opening="no", habits="no", other="no"):
    return {
        "tmd_pain_duration": duration,
        "tmd_morning_stiffness": morning,
        "tmd_chewing": chewing,
        "tmd_opening": opening,
        "tmd_habits": habits,
        "tmd_other_activities": other,
    }


@pytest.mark.parametrize(
    "answers, score",
    [
        (_tmd(), 0),
        (_tmd(duration="comes_and_goes"), 1),
        (_tmd(duration="always"), 2),
        (_tmd(morning="yes"), 1),
        (_tmd(other="yes"), 1),
        (_tmd(duration="comes_and_goes", chewing="yes", habits="yes"), 3),
        (_tmd(duration="always", morning="yes", opening="yes"), 4),
        (_tmd(morning="yes", chewing="yes", opening="yes", habits="yes", other="yes"), 5),
        (_tmd(duration="comes_and_goes", morning="yes", chewing="yes", opening="yes", habits="yes", other="yes"), 6),
        (_tmd(duration="always", morning="yes", chewing="yes", opening="yes", habits="yes", other="yes"), 7),
    ],
)
def test_tmd_screener_score(answers, score):
    assert tmd_screener_score(answers) == score


@pytest.mark.parametrize(
    "item",
    ["tmd_pain_duration", "tmd_morning_stiffness", "tmd_chewing", "tmd_opening", "tmd_habits", "tmd_other_activities"],
)
@pytest.mark.parametrize("missing_value", ["absent", None, UNSURE, "not_asked"])
def test_tmd_screener_score_is_none_when_an_item_is_missing_or_unsure(item, missing_value):
    answers = _tmd(duration="always", morning="yes", chewing="yes", opening="yes", habits="yes", other="yes")
    if missing_value == "absent":
        del answers[item]
    else:
        answers[item] = missing_value
    assert tmd_screener_score(answers) is None


def test_tmd_screener_score_is_none_for_empty_answers():
    assert tmd_screener_score({}) is None


@pytest.mark.parametrize("score, positive", [(0, False), (2, False), (3, True), (7, True), (None, None)])
def test_tmd_screener_positive_threshold_is_3(score, positive):
    assert tmd_screener_positive(score) is positive


@pytest.mark.parametrize(
    "score, category",
    [
        (0, "none"),
        (1, "mild"),
        (4, "mild"),
        (5, "moderate"),
        (7, "moderate"),
        (8, "severe"),
        (10, "severe"),
        (11, None),
        (-1, None),
        (None, None),
        ("5", None),
        (True, None),
        (UNSURE, None),
    ],
)
def test_pain_category_boundaries(score, category):
    assert pain_category(score) == category


# ---------------------------------------------------------------------------
# "Never" rules from the reference (section 7)
# ---------------------------------------------------------------------------


def _patient_texts():
    rules = yaml.safe_load((CLINICAL_DIR / "outcome_rules.yml").read_text(encoding="utf-8"))
    texts = [(f"outcome_rules.yml:{r['id']}", r["patient_text"]) for r in rules["rules"]]
    unsure = rules["unsure_rule"]
    texts += [
        ("outcome_rules.yml:unsure_rule", unsure["patient_text"]),
        ("outcome_rules.yml:unsure_rule.red_flag", unsure["red_flag_patient_text"]),
    ]
    knowledge = yaml.safe_load((CLINICAL_DIR / "knowledge.yml").read_text(encoding="utf-8"))
    texts += [(f"knowledge.yml:{e['id']}", e["answer"]) for e in knowledge["entries"]]
    return texts


def test_never_regex_catches_forbidden_wording():
    # Guards the guard: the regex below must actually catch what it is meant to.
    for bad in (
        "Good news, you are eligible for Botox.",
        "Please stop taking warfarin first.",
        "Stop your blood thinner a week before.",
    ):
        assert NEVER_SAY.search(bad), bad
    assert not NEVER_SAY.search("Please keep taking your medicines as prescribed.")


def test_patient_texts_were_found():
    texts = _patient_texts()
    assert len(texts) >= len(RULE_CASES) + 2 + 5  # every rule, the unsure wording, several facts


@pytest.mark.parametrize("where, text", [pytest.param(w, t, id=w) for w, t in _patient_texts()])
def test_patient_text_never_says_eligible_or_stop_a_medicine(where, text):
    assert isinstance(text, str) and text.strip(), where
    assert not NEVER_SAY.search(text), f"{where}: {text!r}"


def test_bleeding_text_tells_patient_to_keep_taking_medicines():
    assert "keep taking your medicines" in load_rulebook().rule("bleeding").patient_text
