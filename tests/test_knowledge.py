"""The knowledge base (clinical/knowledge.yml) and its matching (clinical/knowledge.py).

What the medical lead's file must get right, what patients are told from it, and how the
matcher behaves at its edges. How well it matches real questions is measured on the held-out
question set (tests/understanding/test_questions.py), not here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from clinical.clinic import AFTERCARE_TOPICS, load_clinic_settings
from clinical.knowledge import (
    DEFAULT_PATH,
    Entry,
    KnowledgeBase,
    MatchSettings,
    content_words,
    load_knowledge,
    normalise,
    replies,
    undeclared_placeholders,
    validate,
)
from medical_nlu import knowledge_training

KB = load_knowledge()
SETTINGS = load_clinic_settings()
RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
# The topics the issue and clinical reference section 6 ask the knowledge base to cover.
REQUIRED_TOPICS = (
    "how_it_works",
    "evidence",
    "onset",
    "duration",
    "repeat_treatment",
    "resistance",
    "not_working",
    "procedure",
    "injection_pain",
    "side_effects",
    "serious_risks",
    "bruising",
    "face_shape",
    "approval",
    "cosmetic_same",
    "units",
    "brands",
    "pregnancy",
    "breastfeeding",
    "cancer",
    "age_limits",
    "aftercare",
    "aftercare_eating",
    "aftercare_alcohol",
    "aftercare_exercise",
    "aftercare_lying_down",
    "aftercare_face_care",
    "driving",
    "cost",
    "insurance",
    "consultation",
    "who_injects",
    "alternatives",
    "location",
    "opening_hours",
    "cancellation",
)
# SMS: Twilio takes 1,600 characters; an answer of at most 3 SMS segments reads as one message.
MAX_ANSWER_CHARS = 480


def test_at_least_40_entries_covering_the_required_topics():
    assert len(KB.entries) >= 40
    assert [t for t in REQUIRED_TOPICS if t not in KB.ids] == []


@pytest.mark.parametrize("entry", KB.entries, ids=lambda e: e.id)
def test_every_entry_has_a_source_and_a_review_status(entry):
    raw = next(item for item in RAW["entries"] if item["id"] == entry.id)
    assert str(raw["source"]).strip() and str(raw["topic"]).strip()
    assert raw["review"] == "pending" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(raw["review"]))
    assert len(entry.examples) >= 5


@pytest.mark.parametrize("entry", KB.entries, ids=lambda e: e.id)
def test_every_answer_is_filled_in_and_fits_a_text_message(entry):
    text = entry.text_for(SETTINGS)
    assert "{" not in text and "}" not in text
    assert len(text) <= MAX_ANSWER_CHARS, (entry.id, len(text))
    # Reference section 7: never a promise, never "eligible".
    assert not re.search(r"\b(guarantee[sd]?|will cure|cures|you are eligible|you're eligible)\b", text, re.I)


def test_placeholders_are_clinic_settings():
    assert undeclared_placeholders(KB.entries, SETTINGS.placeholders()) == []
    assert undeclared_placeholders(
        [Entry("x", "t", "Call {fax_number}", "s", "pending", ("q",))], SETTINGS.placeholders()
    ) == ["x: {fax_number}"]


def test_entries_without_a_sourced_fact_say_the_practitioner_will_answer():
    for entry in KB.entries:
        if entry.source.lower().startswith("none"):
            assert "practitioner" in entry.text_for(SETTINGS).lower(), entry.id


def test_the_medicines_answer_never_tells_anyone_to_stop_a_medicine():
    text = KB.get("medicines").text_for(SETTINGS).lower()
    assert "don't stop" in text or "do not stop" in text or "never stop" in text
    assert not re.search(r"\b(?<!don't )(?<!not )stop (taking|your)\b", text)


def test_serious_risks_keep_the_emergency_advice():
    for entry_id in ("serious_risks", "side_effects"):
        assert f"call {SETTINGS.emergency_number}" in KB.get(entry_id).text_for(SETTINGS), entry_id


@pytest.mark.parametrize("topic", AFTERCARE_TOPICS)
def test_aftercare_uses_the_clinics_words_or_says_the_practitioner_explains(topic):
    entry = next(e for e in KB.entries if e.clinic_setting == f"aftercare.{topic}")
    own = replace(SETTINGS, aftercare={topic: "Our own advice: no saunas for 2 days."})
    assert entry.text_for(own) == "Our own advice: no saunas for 2 days."
    none = replace(SETTINGS, aftercare={})
    assert "practitioner" in entry.text_for(none).lower()


def test_replies_are_filled_in():
    for key, text in replies().items():
        filled = text.format(**SETTINGS.placeholders())
        assert "{" not in filled, key
    assert SETTINGS.opening_hours in replies()["person_contact"].format(**SETTINGS.placeholders())


# --- the file's checks -------------------------------------------------------------------


def test_validate_finds_what_the_medical_lead_could_get_wrong():
    a = Entry("pain", "Pain", "It stings.", "label", "pending", ("does it hurt",))
    assert validate([a, a])[0] == "duplicate id pain"
    assert "review is 'pending'" in validate([replace(a, review="yes")])[0]
    assert validate([replace(a, review="2026-11-27")]) == []
    assert "in both pain and cost" in validate([a, Entry("cost", "Cost", "£", "s", "pending", ("Does it hurt?",))])[0]
    assert "ids are lower_case" in validate([replace(a, id="Pain")])[0]
    assert "unknown clinic_setting" in validate([replace(a, clinic_setting="aftercare")])[0]


def test_a_bad_file_is_refused_at_load(tmp_path: Path):
    path = tmp_path / "kb.yml"
    path.write_text(
        "entries:\n  - id: pain\n    topic: Pain\n    answer: It stings.\n    review: pending\n"
        "    examples: [does it hurt]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="missing \\['source'\\]"):
        load_knowledge(path)


# --- matching ------------------------------------------------------------------------------

TINY = KnowledgeBase(
    (
        Entry("pain", "Pain", "A sting.", "s", "pending", ("does the injection hurt", "is it painful")),
        Entry("cost", "Cost", "£300.", "s", "pending", ("how much does it cost", "what is the price")),
    ),
    MatchSettings(threshold=0.4, unknown_penalty=0.5),
)


def test_normalise_reads_chat_spellings_and_apostrophes():
    assert normalise("How much’s it cost u?") == "how muchs it cost you"
    assert content_words("hi, I was wondering how much the treatment costs") == ["treatment", "costs"]


def test_a_close_question_matches_and_an_unrelated_one_does_not():
    assert TINY.match("how much does botox cost?").entry.id == "cost"
    assert TINY.match("is it painfull").entry.id == "pain"  # a typo in a known word
    nothing = TINY.match("can I fly the next day")
    assert nothing.entry is None and "fly" in nothing.unknown_words


def test_no_confident_match_offers_the_near_entries_only():
    settings = MatchSettings(threshold=0.99, unknown_penalty=0.5, suggest_threshold=0.2)
    near = KnowledgeBase(TINY.entries, settings).match("is the price high")
    assert near.entry is None and [e.id for e in near.suggestions] == ["cost"]
    assert TINY.match("how much does botox cost?").suggestions == ()  # confident: nothing offered


def test_unknown_words_lower_the_score():
    assert TINY.match("does the injection hurt").score > TINY.match("does the injection hurt my parrot").score


def test_empty_or_symbol_only_text_matches_nothing():
    assert TINY.match("").entry is None and TINY.match("???").entry is None


# --- generated training data -----------------------------------------------------------------


def test_generated_training_data_is_current():
    """data/nlu_knowledge.yml is made from the knowledge base: regenerate it with
    `.venv/bin/python -m medical_nlu.knowledge_training` after editing the knowledge base."""
    expected = knowledge_training.render(KB, knowledge_training.claimed_by_other_intents())
    assert knowledge_training.GENERATED_PATH.read_text(encoding="utf-8") == expected


def test_generated_training_data_leaves_out_what_another_intent_claims():
    claimed = {normalise("how much does it cost")}
    assert knowledge_training.questions(TINY, claimed) == [
        "does the injection hurt",
        "is it painful",
        "what is the price",
    ]


def test_generated_training_data_takes_the_first_examples_of_each_entry():
    assert knowledge_training.questions(TINY, set(), per_entry=1) == [
        "does the injection hurt",
        "how much does it cost",
    ]
