"""CPU per typed message on the Rasa-free reading path: what the NLU component and the form
validation do with one message (the one reading, entities, the safety net, the answer),
over the blind development corpus, timed after a warm-up. Prints figures; asserts nothing.

    .venv/bin/python bench/reading.py [--rounds 5]

Runs on the code before issue 20 too (there ``clinical.reading`` does not exist and the
message is read as typed), so the same script gives the before and after figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinical.answers import interpret  # noqa: E402
from clinical.questionnaire import load_questionnaire  # noqa: E402
from clinical.safety_net import scan  # noqa: E402
from medical_nlu.pipeline import extract  # noqa: E402

try:  # after issue 20: the one reading of each message
    from clinical.reading import read

    def reading(text: str) -> str:
        return read(text).text
except ImportError:  # before: each reader normalised for itself

    def reading(text: str) -> str:
        return text


# Per-message caches: cleared each round, so every message is read afresh.
FRESH_EACH_ROUND = []
try:
    from clinical.safety_net import _scan_once

    FRESH_EACH_ROUND += [read, _scan_once]
except ImportError:
    pass

CORPUS = ROOT / "tests" / "corpus" / "blind" / "development.yml"


def one_message(question, text: str) -> None:
    entities = extract(reading(text))
    scan(text, question.id if question else None)
    if question is not None:
        interpret(question, "", entities, text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questionnaire = load_questionnaire()
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]
    work = [(questionnaire.get(c["at"]) if c["at"] in questionnaire.ids else None, str(c["text"])) for c in cases]
    for question, text in work:  # warm-up: loading the lexicon, spaCy, SymSpell, the drug list
        one_message(question, text)
    per_round = []
    for _ in range(args.rounds):
        for cache in FRESH_EACH_ROUND:
            cache.cache_clear()  # each round reads every message afresh
        start = time.process_time()
        for question, text in work:
            one_message(question, text)
        per_round.append((time.process_time() - start) / len(work) * 1000)
    print(f"messages: {len(work)}  rounds: {args.rounds}")
    print(
        f"CPU per message: median {statistics.median(per_round):.2f} ms  (rounds: "
        + ", ".join(f"{x:.2f}" for x in per_round)
        + ")"
    )


if __name__ == "__main__":
    main()
