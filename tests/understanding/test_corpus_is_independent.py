"""The evaluation sets share no example with the training data (unit test, no model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from clinical.questionnaire import load_questionnaire
from clinical.rules import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ("development", "sealed")
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    text = ENTITY_MARKUP.sub(r"\1", text).lower()
    return re.sub(r"\s+", " ", text).strip().rstrip("?!.,").strip()


def nlu_examples(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in data.get("nlu", []):
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield normalise(line[2:])


# Every training file: the hand-written examples and the knowledge base's generated ones.
TRAINING = set(nlu_examples(ROOT / "data" / "nlu.yml")) | set(nlu_examples(ROOT / "data" / "nlu_knowledge.yml"))
QUESTION_SETS = ("development", "sealed")


def question_set(name):
    return yaml.safe_load((ROOT / "tests" / "questions" / f"{name}.yml").read_text(encoding="utf-8"))["cases"]


def corpus(name):
    return yaml.safe_load((ROOT / "tests" / "corpus" / f"{name}.yml").read_text(encoding="utf-8"))["cases"]


def test_normalise_removes_entity_markup_and_case():
    assert normalise('I take [Warfarin]{"entity": "medicine", "value": "warfarin"}.') == "i take warfarin"
    assert normalise("[ibuprofen](medicine) daily") == "ibuprofen daily"


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_shares_no_example_with_the_training_data(name):
    shared = sorted({c["id"] for c in corpus(name) if normalise(c["text"]) in TRAINING})
    assert not shared, f"{name}: cases also in data/nlu.yml: {shared}"


def test_heldout_nlu_shares_no_example_with_the_training_data():
    shared = sorted(e for e in nlu_examples(ROOT / "tests" / "nlu" / "heldout_nlu.yml") if e in TRAINING)
    assert not shared, shared


def test_the_corpus_is_big_enough_and_the_sealed_part_a_third():
    dev, sealed = corpus("development"), corpus("sealed")
    assert len(dev) + len(sealed) >= 400
    assert len(sealed) >= (len(dev) + len(sealed)) / 3


@pytest.mark.parametrize("name", CORPORA)
def test_every_case_is_well_formed(name):
    questions = load_questionnaire()
    rule_ids = {r.id for r in load_rulebook().rules}
    points = set(questions.ids) | {"consent", "summary", "change_what", "contact_name", "contact_times"}
    ids = [c["id"] for c in corpus(name)]
    assert len(ids) == len(set(ids))
    for case in corpus(name):
        assert case["at"] in points, case["id"]
        assert "expect" in case or "red_flag" in case or "distress" in case, case["id"]
        assert case.get("red_flag") is None or case["red_flag"] in rule_ids, case["id"]


def test_every_red_flag_rule_and_distress_is_covered():
    cases = corpus("development") + corpus("sealed")
    urgent_or_refer = {r.id for r in load_rulebook().rules if r.id.startswith("rf_")}
    assert urgent_or_refer <= {c.get("red_flag") for c in cases}
    assert sum(bool(c.get("distress")) for c in cases) >= 20


# --- the question set (tests/questions/) -------------------------------------------------


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_question_set_shares_no_example_with_the_training_data_or_the_knowledge_base(name):
    from clinical.knowledge import knowledge  # every example, including any left out of training

    examples = TRAINING | {normalise(e) for entry in knowledge().entries for e in entry.examples}
    shared = sorted({c["id"] for c in question_set(name) if normalise(c["text"]) in examples})
    assert not shared, f"{name}: questions also in the training data: {shared}"


def test_question_set_parts_share_no_question():
    dev = {normalise(c["text"]) for c in question_set("development")}
    assert not [c["id"] for c in question_set("sealed") if normalise(c["text"]) in dev]


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_question_set_is_big_enough_and_well_formed(name):
    from clinical.knowledge import knowledge

    cases = question_set(name)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids))
    allowed = set(knowledge().ids) | {"unanswerable", "person", "bot"}
    assert [c["id"] for c in cases if c["expect"] not in allowed] == []
    assert sum(c["expect"] == "unanswerable" for c in cases) >= 30
    assert sum(c["expect"] not in ("person", "bot") for c in cases) >= 150
