"""The blind distress corpus (issue 21), scored on the Rasa-free reader.

Three helper sessions that had not seen the safety net's words, the lexicon or the reading
code wrote messages to the assistant as one kind of person each (tests/corpus/blind/distress/
BRIEF.md is all they were given): words of distress, direct and indirect; ordinary messages
that must not raise the alarm (figures of speech, "I want this pain to end"); and replies to
"Are you safe right now?". A script split each author's messages in halves by a hash of
author and id, printing counts only.

What is scored is what the assistant acts on: the NLU turns any message the safety net finds
distress in into ``safety_concern`` (medical_nlu/safety_component.py), and the safety action
gives the crisis contacts in the same reply (actions/safety.py); the reply to "Are you safe
right now?" is read by clinical/safe_answer.py. Seconds, no model.

The sealed half is reported as totals only: ``Report`` keeps counts, never texts or ids.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinical.safe_answer import SAFE, read_safe_answer
from clinical.safety_net import DISTRESS, scan

HERE = Path(__file__).resolve().parents[1] / "corpus" / "blind" / "distress"
DEVELOPMENT, SEALED = HERE / "development.yml", HERE / "sealed.yml"


def load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def finds_distress(text: str) -> bool:
    return any(f.kind == DISTRESS for f in scan(text))


def indirect_sign(text: str) -> bool:
    """The gentle direct question is asked: every finding is of an indirect sign."""
    found = [f for f in scan(text) if f.kind == DISTRESS]
    return bool(found) and all(f.flag != DISTRESS for f in found)


@dataclass
class Report:
    """Counts per part of the corpus (distress direct / indirect, ordinary, safe answers),
    as (right, total). ``misses`` holds failing texts, and is filled for development only."""

    counts: Counter = field(default_factory=Counter)
    totals: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def rate(self, *parts: str) -> float:
        total = sum(self.totals[p] for p in parts)
        return sum(self.counts[p] for p in parts) / total if total else 1.0

    def lines(self) -> list[str]:
        return [f"{p}: {self.counts[p]}/{self.totals[p]} ({self.rate(p):.1%})" for p in sorted(self.totals)]

    def __repr__(self) -> str:  # never a case's text or id: the sealed half prints this
        return "Report(" + "; ".join(self.lines()) + ")"


def part_of(case: dict) -> str:
    if case["kind"] == "distress":
        return f"distress {case.get('sign', 'direct')}"
    if case["kind"] == "ordinary":
        return "ordinary (no check-in)"
    return f"safe answer {case['expect']}"


def read_right(case: dict) -> bool:
    text = str(case["text"])
    if case["kind"] == "distress":
        return finds_distress(text)
    if case["kind"] == "ordinary":
        return not finds_distress(text)
    return read_safe_answer(text) == (SAFE if case["expect"] == "safe" else "not_safe")


def score(cases: list[dict], keep_misses: bool) -> Report:
    report = Report()
    for case in cases:
        part, right, text = part_of(case), read_right(case), case["text"]
        report.totals[part] += 1
        report.counts[part] += int(right)
        if not right and keep_misses:
            report.misses.append((part, text))
    return report
