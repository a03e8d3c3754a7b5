"""Patients' questions through the trained assistant (tests/questions/README.md).

Figures (docs/knowledge-base.md): the share answered with the right entry (target 95 %),
the share of unanswerable questions told "no checked answer" (target 100 %, gate 95 %) and
the share given a wrong entry (target 0, gate 2 %). The matching threshold is calibrated on
the development part (bench/calibrate_knowledge.py); the sealed part is reported, with case
ids and values only, never its text.
"""

from __future__ import annotations

import pytest

from tests.understanding.questions import QuestionReport, load_cases, run_case

pytestmark = pytest.mark.understanding

RIGHT_ENTRY_TARGET = 0.95
UNKNOWN_GATE, UNKNOWN_TARGET = 0.95, 1.0
WRONG_ENTRY_GATE = 0.02
PERSON_GATE = 0.75
# Mid-questionnaire, a question never becomes an answer to the pending question.
PENDING_REPEATED_GATE = 0.95
# The sealed part misses the gates above today (docs/knowledge-base.md gives the figures:
# wrong entry 5.6 %, no answer 85.3 %, person 66.7 %); these guards, set just below, only catch
# it getting worse. They are not targets.
SEALED_WRONG_ENTRY_GUARD = 0.07
SEALED_UNKNOWN_GUARD = 0.80
SEALED_PERSON_GUARD = 0.60


def run_part(assistant, name: str, show_text: bool, capsys) -> QuestionReport:
    report = QuestionReport([run_case(assistant, case, i) for i, case in enumerate(load_cases(name))])
    with capsys.disabled():
        print("\n" + "\n".join(report.lines(name, show_text)))
        print(
            f"  (targets: right entry {RIGHT_ENTRY_TARGET:.0%}, no answer {UNKNOWN_TARGET:.0%} "
            f"(gate {UNKNOWN_GATE:.0%}), wrong entry 0 (gate {WRONG_ENTRY_GATE:.0%}))"
        )
    return report


def check_gates(report: QuestionReport, wrong_entry: float, unknown: float, person: float = PERSON_GATE) -> None:
    assert report.wrong_entry() <= wrong_entry, report.wrong_entry()
    assert report.unknown_when_unanswerable() >= unknown, report.unknown_when_unanswerable()
    assert report.person() >= person, report.person()
    assert report.pending_repeated() >= PENDING_REPEATED_GATE, report.pending_repeated()


def test_development_part(assistant, capsys):
    check_gates(run_part(assistant, "development", True, capsys), WRONG_ENTRY_GATE, UNKNOWN_GATE)


def test_sealed_part(assistant, capsys):
    report = run_part(assistant, "sealed", False, capsys)
    with capsys.disabled():
        met = report.wrong_entry() <= WRONG_ENTRY_GATE and report.unknown_when_unanswerable() >= UNKNOWN_GATE
        print(
            f"  sealed part {'meets' if met else 'DOES NOT MEET'} the gates (wrong entry <= {WRONG_ENTRY_GATE:.0%}, "
            f"no answer >= {UNKNOWN_GATE:.0%}); guarded against getting worse"
        )
    check_gates(report, SEALED_WRONG_ENTRY_GUARD, SEALED_UNKNOWN_GUARD, SEALED_PERSON_GUARD)
