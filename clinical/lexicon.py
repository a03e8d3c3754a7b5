"""Loads the clinic-reviewed vocabulary in ``lexicon.yml``.

Pure Python (no Rasa, no spaCy) so the rules and the NLU pipeline share one source
of truth for which medicine belongs to which screening category.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).with_name("lexicon.yml")

# Entity labels the NLU pipeline emits for each lexicon section.
SECTION_TO_ENTITY = {
    "medicines": "medicine",
    "conditions": "condition",
    "symptoms": "symptom",
    "treatments": "treatment",
    "pregnancy": "pregnancy",
}


@dataclass(frozen=True)
class Lexicon:
    # (entity label, canonical id) -> list of surface terms
    terms: dict[tuple[str, str], list[str]]
    medicine_categories: dict[str, str]

    def category_of(self, medicine_id: str) -> str:
        return self.medicine_categories.get(medicine_id, "unknown")


def _as_terms(entry) -> list[str]:
    if isinstance(entry, dict):
        return [str(t).lower() for t in entry["terms"]]
    return [str(t).lower() for t in entry]


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    terms: dict[tuple[str, str], list[str]] = {}
    categories: dict[str, str] = {}
    for section, label in SECTION_TO_ENTITY.items():
        for canonical, entry in (raw.get(section) or {}).items():
            terms[(label, canonical)] = _as_terms(entry)
            if section == "medicines":
                categories[canonical] = entry["category"]
    return Lexicon(
        terms=terms,
        medicine_categories=categories,
    )
