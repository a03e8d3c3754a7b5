"""The patient-phrasing corpus through the trained assistant (tests/corpus/README.md).

Gates (docs/nlu-evaluation.md):
- both parts: no missed red flag, and every message gets a reply;
- the development part: no missed distress, answer accuracy of at least 90 % overall and for
  every answer type with at least 20 cases (smaller types are printed: one case there is
  5-15 points);
- the sealed part is written to measure, not to tune: its accuracy and distress figures are
  printed (target 97 %), and its report shows case ids and values only, never the text.
"""

from __future__ import annotations

import pytest

from tests.understanding.corpus import Report, load_cases, run_case

pytestmark = pytest.mark.understanding

ACCURACY_GATE = 0.90
ACCURACY_TARGET = 0.97
GATED_TYPE_SIZE = 20


def run_part(assistant, name, show_text, capsys) -> Report:
    report = Report([run_case(assistant, case) for case in load_cases(name)])
    with capsys.disabled():
        print("\n" + "\n".join(report.lines(name, show_text)))
        print(f"  (target {ACCURACY_TARGET:.0%} per answer type; gate {ACCURACY_GATE:.0%})")
    assert not report.missed_red_flags(), [o.case["id"] for o in report.missed_red_flags()]
    assert not report.no_reply(), [o.case["id"] for o in report.no_reply()]
    return report


def test_development_part(assistant, capsys):
    report = run_part(assistant, "development", True, capsys)
    assert not report.missed_distress(), [o.case["id"] for o in report.missed_distress()]
    gated = {t: a for t, a in report.accuracy().items() if len(report.by_type()[t]) >= GATED_TYPE_SIZE}
    below = {t: round(a, 3) for t, a in gated.items() if a < ACCURACY_GATE}
    assert not below, below
    assert report.overall_accuracy() >= ACCURACY_GATE


def test_sealed_part(assistant, capsys):
    run_part(assistant, "sealed", False, capsys)
