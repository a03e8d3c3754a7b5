"""The blind distress corpus (tests/corpus/blind/distress/, three authors who never saw the
safety net's words), scored on the Rasa-free reader (tests/reading/distress_corpus.py):
about a second of CI, no model.

The sealed half prints totals only, never text, ids or failures; the development half prints
its failures. Issue 21's gates are on the sealed half: printed MET or NOT MET on every run,
with floors (the figures this reader reached, measured once on totals only) that fail the
build when the reading gets worse.
"""

from __future__ import annotations

import pytest
import yaml

from clinical.distress_model import EXAMPLES_PATH
from tests.reading.distress_corpus import DEVELOPMENT, SEALED, load, score
from tests.understanding.test_corpus_is_independent import TRAINING, normalise

# Issue 21's gates on the sealed half (docs/nlu-evaluation.md has the figures).
GATE_CAUGHT, GATE_CHECK_INS, GATE_SAFE_ANSWERS = 0.95, 0.05, 0.95
# Floors: the sealed figures of this reader, so a change that reads worse fails the build.
FLOOR_CAUGHT, CEILING_CHECK_INS, FLOOR_SAFE_ANSWERS = 0.94, 0.045, 0.92
# On the development half, which was studied, nothing less than this is accepted.
DEVELOPMENT_CAUGHT, DEVELOPMENT_CHECK_INS = 0.98, 0.0

DISTRESS = ("distress direct", "distress indirect")
SAFE_ANSWERS = ("safe answer safe", "safe answer not_safe")
ORDINARY = "ordinary (no check-in)"


def _gate(name: str, met: bool) -> str:
    return f"  issue-21 gate {name}: {'MET' if met else 'NOT MET'}"


@pytest.fixture(scope="module")
def sealed():
    report = score(load(SEALED), keep_misses=False)
    print("\nblind distress, sealed (totals only):\n  " + "\n  ".join(report.lines()))
    return report


@pytest.fixture(scope="module")
def development():
    report = score(load(DEVELOPMENT), keep_misses=True)
    print("\nblind distress, development:\n  " + "\n  ".join(report.lines()))
    for part, text in report.misses:
        print(f"  MISSED {part}: {text}")
    return report


@pytest.mark.parametrize("path", [DEVELOPMENT, SEALED], ids=["development", "sealed"])
def test_no_message_is_in_the_training_data(path):
    shared = sum(normalise(str(c["text"])) in TRAINING for c in load(path))
    assert shared == 0, f"{shared} messages also appear in data/ (no text printed)"


@pytest.mark.parametrize("path", [DEVELOPMENT, SEALED], ids=["development", "sealed"])
def test_no_message_is_among_the_distress_models_examples(path):
    """The model (clinical/distress_model.py) learns from other authors' messages only."""
    raw = yaml.safe_load(EXAMPLES_PATH.read_text(encoding="utf-8"))
    examples = {normalise(str(t)) for t in raw["distress"] + raw["ordinary"]}
    shared = sum(normalise(str(c["text"])) in examples for c in load(path))
    assert shared == 0, f"{shared} messages are also the model's examples (no text printed)"


@pytest.mark.parametrize("path", [DEVELOPMENT, SEALED], ids=["development", "sealed"])
def test_each_half_has_every_author_and_at_least_a_hundred_messages_each_way(path):
    cases = load(path)
    assert len({c["author"] for c in cases}) >= 3
    assert sum(c["kind"] == "distress" for c in cases) >= 100
    assert sum(c["kind"] == "ordinary" for c in cases) >= 100


def test_distress_on_the_sealed_half(sealed):
    caught, check_ins = sealed.rate(*DISTRESS), 1 - sealed.rate(ORDINARY)
    print(f"sealed: distress caught {caught:.1%}, check-ins on ordinary messages {check_ins:.1%}")
    print(_gate("distress caught >= 95%", caught >= GATE_CAUGHT))
    print(_gate("check-ins on ordinary messages <= 5%", check_ins <= GATE_CHECK_INS))
    assert caught >= FLOOR_CAUGHT and check_ins <= CEILING_CHECK_INS


def test_are_you_safe_answers_on_the_sealed_half(sealed):
    handled = sealed.rate(*SAFE_ANSWERS)
    print(f"sealed: answers to 'Are you safe right now?' handled {handled:.1%}")
    print(_gate("answers to 'Are you safe right now?' >= 95%", handled >= GATE_SAFE_ANSWERS))
    assert handled >= FLOOR_SAFE_ANSWERS
    assert sealed.rate("safe answer not_safe") == 1.0, "a reply that is not a clear yes was taken as safe"


def test_the_development_half(development):
    assert development.rate(*DISTRESS) >= DEVELOPMENT_CAUGHT
    assert 1 - development.rate(ORDINARY) <= DEVELOPMENT_CHECK_INS
    assert development.rate("safe answer not_safe") == 1.0
