"""Invariance under perturbation (CheckList, Ribeiro et al. 2020) on the Rasa-free reader:
each development case of the blind corpora the reader gets right is typed five other ways
(tests/reading/perturb.py); a perturbed case passes only when it is still read right (a
re-ask is not a pass). The rate is printed per perturbation and gated overall."""

from __future__ import annotations

import random
from collections import defaultdict

from tests.reading.blind_corpus import load, run_case
from tests.reading.distress_corpus import DEVELOPMENT as DISTRESS_DEVELOPMENT
from tests.reading.distress_corpus import load as load_distress
from tests.reading.distress_corpus import read_right as distress_read_right
from tests.reading.perturb import PERTURBATIONS

INVARIANCE_AT_LEAST = 0.95
SEED = 20


def _read_right(case) -> bool:
    result = run_case(case)
    ok = result.answer in (None, "right") and result.also_ok is not False and result.given_kept
    return ok and result.red_flag_caught is not False and not result.false_alarm and not result.outcome_unsafe


def _invariance(cases, read_right, label: str, skip=lambda case: False) -> float:
    """Each case read right, typed every other way a perturbation applies to: the share of
    perturbed cases still read right, printed per perturbation."""
    rng = random.Random(SEED)
    totals: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        if skip(case) or not read_right(case):
            continue
        for name, perturb in PERTURBATIONS.items():
            text = perturb(str(case["text"]), rng)
            if text is not None:
                totals[name].append(read_right({**case, "text": text}))
    lines = [f"  {name:<28} {sum(v) / len(v):6.1%} ({len(v)})" for name, v in totals.items()]
    everything = [ok for v in totals.values() for ok in v]
    rate = sum(everything) / len(everything)
    print(f"\n{label}invariance under perturbation (development):\n" + "\n".join(lines) + f"\n  overall {rate:.1%}")
    return rate


def test_reading_is_invariant_under_perturbation():
    rate = _invariance(load("development"), _read_right, "", skip=lambda case: case["at"] == "contact_name")
    assert rate >= INVARIANCE_AT_LEAST


def test_distress_reading_is_invariant_under_perturbation():
    """The same for the blind distress corpus (issue 21): a message read right (distress
    caught, no check-in on an ordinary message, the reply to "are you safe" read right)
    must stay so when typed another way."""
    rate = _invariance(load_distress(DISTRESS_DEVELOPMENT), distress_read_right, "distress: ")
    assert rate >= INVARIANCE_AT_LEAST
