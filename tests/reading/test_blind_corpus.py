"""The blind corpora (tests/corpus/blind/, five authors who never saw the project's words),
scored on the Rasa-free reader (tests/reading/blind_corpus.py): seconds of CI, no model.

The sealed part prints totals per answer type and red-flag tier only, never text, ids or
failures; the development part prints its failures. Issue 20's gates are on the sealed part:
printed MET or NOT MET on every run, with floors that fail the build if the reading gets worse.
"""

from __future__ import annotations

import pytest

from clinical.rules import EMERGENCY, SAME_DAY
from tests.reading.blind_corpus import load, run
from tests.understanding.test_corpus_is_independent import TRAINING, normalise

# Issue 20's gates on the sealed part. Not met yet (docs/nlu-evaluation.md has the figures):
# they are printed, MET or NOT MET, on every run, and the floors below (the figures this
# reader reached, measured once on totals only) fail the build when the reading gets worse.
GATE_RIGHT, GATE_WRONG, GATE_REASKED = 0.95, 0.01, 0.04
FLOOR_RIGHT, CEILING_WRONG, CEILING_REASKED = 0.82, 0.085, 0.10
CEILING_UNSAFE_OUTCOMES = 2
CEILING_MISSED_EMERGENCY = 1


def _gate(name: str, met: bool) -> str:
    return f"  issue-20 gate {name}: {'MET' if met else 'NOT MET'}"


@pytest.fixture(scope="module")
def sealed():
    report = run("sealed")
    print("\n" + "\n".join(report.lines("blind sealed (totals only)", show_cases=False)))
    return report


@pytest.fixture(scope="module")
def development():
    report = run("development")
    print("\n" + "\n".join(report.lines("blind development", show_cases=True)))
    return report


@pytest.mark.parametrize("part", ["development", "sealed"])
def test_no_case_is_in_the_training_data(part):
    shared = sum(normalise(str(c["text"])) in TRAINING for c in load(part))
    assert shared == 0, f"{shared} {part} cases also appear in data/ (no text printed)"


@pytest.mark.parametrize("part", ["development", "sealed"])
def test_at_least_three_authors_each_with_both_halves(part):
    assert len({c["author"] for c in load(part)}) >= 3


def test_urgent_red_flags_on_the_sealed_part(sealed):
    emergency, same_day = sealed.missed_by_tier()[EMERGENCY], sealed.missed_by_tier()[SAME_DAY]
    print(_gate("every emergency and same-day red flag caught", emergency == 0 and same_day == 0))
    assert same_day == 0, f"{same_day} same-day red flags missed on the sealed part"
    assert emergency <= CEILING_MISSED_EMERGENCY, f"{emergency} emergency red flags missed on the sealed part"


def test_outcomes_on_the_sealed_part(sealed):
    unsafe = len(sealed.unsafe_outcomes())
    print(_gate("no case that should not be eligible ends eligible", unsafe == 0))
    assert unsafe <= CEILING_UNSAFE_OUTCOMES, f"{unsafe} sealed cases end eligible when they should not"


def test_typed_answers_on_the_sealed_part(sealed):
    right, wrong, reasked = sealed.rate("right"), sealed.rate("wrong"), sealed.rate("reasked")
    print(f"sealed: right {right:.1%} wrong {wrong:.1%} asked again {reasked:.1%}")
    print(
        _gate(
            "stored right >= 95%, wrong <= 1%, asked again <= 4%",
            right >= GATE_RIGHT and wrong <= GATE_WRONG and reasked <= GATE_REASKED,
        )
    )
    assert right >= FLOOR_RIGHT and wrong <= CEILING_WRONG and reasked <= CEILING_REASKED


def test_development_part_catches_every_urgent_red_flag(development):
    missed = development.missed_by_tier()
    assert missed[EMERGENCY] == 0 and missed[SAME_DAY] == 0, f"missed: {dict(missed)}"
