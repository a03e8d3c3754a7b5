"""Rasa training data for the intent ``ask_question``, generated from the example questions
of clinical/knowledge.yml (the one file the medical lead reviews).

The generated file, data/nlu_knowledge.yml, is committed so training needs no extra step;
tests/test_knowledge.py fails when it is not what this module makes from the knowledge base.
Regenerate it after editing the knowledge base:

    .venv/bin/python -m medical_nlu.knowledge_training
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from clinical.knowledge import KnowledgeBase, load_knowledge, normalise

ROOT = Path(__file__).resolve().parent.parent
GENERATED_PATH = ROOT / "data" / "nlu_knowledge.yml"
HAND_WRITTEN_PATH = ROOT / "data" / "nlu.yml"
INTENT = "ask_question"
HEADER = (
    "# GENERATED from clinical/knowledge.yml by medical_nlu/knowledge_training.py: do not edit.\n"
    "# The example questions of every entry, as training data for the intent ask_question.\n"
)


def claimed_by_other_intents(path: Path = HAND_WRITTEN_PATH) -> set[str]:
    """Examples data/nlu.yml gives another intent ("how do I book" is book_consultation):
    left out here, so no sentence is trained as two intents."""
    claimed: set[str] = set()
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        if block.get("intent") not in (None, INTENT):
            claimed |= {
                normalise(line[2:]) for line in str(block.get("examples") or "").splitlines() if line.startswith("- ")
            }
    return claimed


# The classifier only has to tell a question from an answer or a command; which entry
# answers is the matching's job (clinical/knowledge.py), which uses every example. All of
# them here would make ask_question five times the next intent, and the classifier would hear
# answers ("on n off") as questions: the first examples of each entry are enough.
PER_ENTRY = 10


def questions(kb: KnowledgeBase, claimed: Iterable[str], per_entry: int = PER_ENTRY) -> list:
    claimed, seen, out = set(claimed), set(), []
    for entry in kb.entries:
        taken = 0
        for example in entry.examples:
            key = normalise(example)
            if taken < per_entry and key and key not in claimed and key not in seen:
                seen.add(key)
                out.append(example)
                taken += 1
    return out


def render(kb: KnowledgeBase, claimed: Iterable[str]) -> str:
    # Rasa reads each "- " line of the block literally, so an example needs no quoting.
    lines = "".join(f"    - {' '.join(q.split())}\n" for q in questions(kb, claimed))
    return f'{HEADER}version: "3.1"\nnlu:\n- intent: {INTENT}\n  examples: |\n{lines}'


def main() -> None:
    GENERATED_PATH.write_text(render(load_knowledge(), claimed_by_other_intents()), encoding="utf-8")
    print(f"wrote {GENERATED_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
