"""Calibrates the knowledge base's matching on the development question set only.

    .venv/bin/python -m bench.calibrate_knowledge            # the grid, best settings first
    .venv/bin/python -m bench.calibrate_knowledge --show     # the current settings' misses

For each setting it prints, over tests/questions/development.yml: the share of answerable
questions matched to the right entry, the share of unanswerable ones with no match, and the
share of all of them given a wrong entry. The settings chosen go into clinical/knowledge.yml
(`matching:`); docs/knowledge-base.md records the figures. The sealed part is never read here.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import yaml

from clinical.knowledge import KnowledgeBase, knowledge

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT = ROOT / "tests" / "questions" / "development.yml"


def development_cases() -> list[dict[str, str]]:
    cases = yaml.safe_load(DEVELOPMENT.read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if c["expect"] not in ("person", "bot")]


def figures(kb: KnowledgeBase, cases) -> tuple[float, float, float, float, list[tuple[str, str, str, str]]]:
    """(right entry, right entry or offered among the suggestions, no answer when
    unanswerable, wrong entry, misses)."""
    right = offered = unknown = wrong = answerable = unanswerable = 0
    misses = []
    for case in cases:
        match = kb.match(case["text"])
        got = match.entry.id if match.entry else "unanswerable"
        if case["expect"] == "unanswerable":
            unanswerable += 1
            unknown += got == "unanswerable"
        else:
            answerable += 1
            right += got == case["expect"]
            offered += got == case["expect"] or case["expect"] in [e.id for e in match.suggestions]
        if got not in ("unanswerable", case["expect"]):
            wrong += 1
        if got != case["expect"]:
            misses.append(
                (case["id"], case["expect"], f"{got} ({match.score:.2f}, nearest {match.best_id})", case["text"])
            )
    return right / answerable, offered / answerable, unknown / unanswerable, wrong / len(cases), misses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true", help="list the current settings' misses")
    args = parser.parse_args()
    base, cases = knowledge(), development_cases()
    if args.show:
        r, o, u, w, misses = figures(base, cases)
        print(f"current {base.settings}: right {r:.1%}  right or offered {o:.1%}  no-answer {u:.1%}  wrong {w:.1%}")
        for m in misses:
            print("  ", *m)
        return
    rows = []
    for weight in (0.3, 0.5, 0.7):
        fitted = KnowledgeBase(base.entries, replace(base.settings, word_weight=weight))
        for threshold, penalty, margin in itertools.product(
            (0.35, 0.40, 0.45, 0.50, 0.55, 0.60), (0.4, 0.8, 1.2, 1.6), (0.0, 0.05, 0.10, 0.15)
        ):
            fitted.settings = replace(fitted.settings, threshold=threshold, unknown_penalty=penalty, margin=margin)
            r, o, u, w, _ = figures(fitted, cases)
            rows.append((w, -u, -r, threshold, penalty, margin, weight, r, u, o))
    # Safest first: wrong entries within 1 % and every unanswerable question told so, then the
    # most answered.
    rows.sort(key=lambda r: (r[0] > 0.01, r[1] > -0.99, r[2]))
    print("wrong  no-answer  right  offered  threshold penalty margin word_weight")
    for w, _, _, threshold, penalty, margin, weight, r, u, o in rows[:25]:
        print(
            f"{w:5.1%}  {u:8.1%}  {r:6.1%}  {o:6.1%}   "
            f"{threshold:.2f}      {penalty:.1f}     {margin:.2f}   {weight:.1f}"
        )


if __name__ == "__main__":
    main()
