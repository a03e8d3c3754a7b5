"""Medicine names in typed answers, beyond the clinic's own lexicon. Pure Python.

The lexicon (``lexicon.yml``) names the medicines the screening rules care about, each with
its category, and some common ones with no rule. Every other real medicine is recognised
from a public list, drug-named-entity-recognition (MIT; DrugBank, MeSH, NHS and MedlinePlus
names, brands resolved to the generic name), used with exact matching only: its fuzzy
matching and its network look-ups stay off, and it is imported on first use. A medicine
found there is recorded by its generic name with no screening category (reference s.5: the
categories that matter are in the lexicon, which is always read first).

What is left after both is a medicine "not recognised" only when the word looks like a name
(it is not an English word nor one of the assistant's own), never for the ordinary words
around names ("when it flares up", "for my blood pressure").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

from clinical.reading import _speller

NO_RULE = "no_rule"
UNKNOWN = "unknown"
_NAME = re.compile(r"^[a-z][a-z-]{3,}$")


@lru_cache(maxsize=4096)
def generic_name(word: str) -> str | None:
    """The generic name for a medicine or brand name ("Norvasc" -> "amlodipine"), or None."""
    if not _NAME.match(word):
        return None
    from drug_named_entity_recognition import find_drugs

    found = find_drugs([word], is_ignore_case=True, is_fuzzy_match=False, is_use_omop_api=False)
    if not found:
        return None
    return str(found[0][0]["name"]).lower()


def looks_like_a_medicine(word: str) -> bool:
    """A word of 4+ letters that is neither English nor the assistant's: maybe a name."""
    _, known = _speller()
    return bool(_NAME.match(word)) and word not in known and not word.endswith("'s")


def recognised(words: Iterable[str]) -> list[tuple[str, str]]:
    """(word, generic name) for each word the public list knows."""
    return [(w, g) for w in words if (g := generic_name(w))]


def recognised_pieces(text: str) -> list[tuple[str, str]]:
    """A name dictated in pieces ("am low dipine" -> amlodipine): two or three neighbouring
    words run together, at least one of them not an English word."""
    _, known = _speller()
    words = re.findall(r"[a-z]+", text)
    found: list[tuple[str, str]] = []
    for size in (3, 2):
        for i in range(len(words) - size + 1):
            piece = words[i : i + size]
            if all(w in known for w in piece):
                continue
            generic = generic_name("".join(piece))
            if generic:
                found += [(w, generic) for w in piece]
    return found


class MedicineCategories(Mapping):
    """The rules' view of medicine ids: the lexicon's category, ``no_rule`` for a generic
    name from the public list, ``unknown`` for anything else (reference s.5)."""

    def __init__(self, lexicon_categories: Mapping[str, str]) -> None:
        self._lexicon = dict(lexicon_categories)

    def __getitem__(self, medicine_id: str) -> str:
        if medicine_id in self._lexicon:
            return self._lexicon[medicine_id]
        if medicine_id != UNKNOWN and generic_name(medicine_id) == medicine_id:
            return NO_RULE
        raise KeyError(medicine_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._lexicon)

    def __len__(self) -> int:
        return len(self._lexicon)
