"""The patient-phrasing corpus through the trained assistant (tests/corpus/README.md).

Fails on any missed red flag, any missed distress, any message left without a reply, or
answer accuracy under the gate for any answer type; prints every figure (target 97%).
The sealed part's report shows case ids and values only, never its text.
"""
from __future__ import annotations

import pytest

from tests.understanding.corpus import Report, load_cases, run_case

pytestmark = pytest.mark.understanding

ACCURACY_GATE = 0.90
ACCURACY_TARGET = 0.97


@pytest.mark.parametrize("name, show_text", [("development", True), ("sealed", False)])
def test_corpus(assistant, name, show_text, capsys):
    report = Report([run_case(assistant, case) for case in load_cases(name)])
    with capsys.disabled():
        print("\n" + "\n".join(report.lines(name, show_text)))
        print(f"  (target {ACCURACY_TARGET:.0%} per answer type, gate {ACCURACY_GATE:.0%})")
    assert not report.missed_red_flags(), [o.case["id"] for o in report.missed_red_flags()]
    assert not report.missed_distress(), [o.case["id"] for o in report.missed_distress()]
    assert not report.no_reply(), [o.case["id"] for o in report.no_reply()]
    below = {t: round(a, 3) for t, a in report.accuracy().items() if a < ACCURACY_GATE}
    assert not below, below
