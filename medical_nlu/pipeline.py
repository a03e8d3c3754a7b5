"""The project's own spaCy pipeline: blank English + the clinic's lexicon.

No downloaded model is needed (none can be downloaded on clinic servers or here):
a blank English tokenizer, a PhraseMatcher built from ``clinical/lexicon.yml``,
token patterns for ages, numbers and durations, and a clause-scoped negation check.

``extract(text)`` returns Rasa-style entity dicts, each with an extra ``negated``
flag, e.g. "no fever but I take warfarin" ->
  [{"entity": "symptom", "value": "fever", "negated": True, ...},
   {"entity": "medicine", "value": "warfarin", "negated": False, ...}]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from clinical.lexicon import Lexicon, load_lexicon
from clinical.reading import is_negated, negated_after

EXTRACTOR_NAME = "ClinicalEntityExtractor"

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
    "several": 4,
    "half a": 0.5,
}
UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30.44, "year": 365.25}

_NUM = r"(?P<num>\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"
_HALF = r"\s+and\s+a\s+half"
# "2 weeks", "2 and a half weeks", "a year and a half"; never "17 years old" (an age).
DURATION_RE = re.compile(
    rf"\b{_NUM}(?P<half1>{_HALF})?\s*(?:-\s*)?{_UNIT}\b(?P<half2>{_HALF})?(?!\s*(?:old|of age)\b)", re.I
)
RELATIVE_RE = re.compile(
    r"\b(?P<rel>yesterday|last week|last month|last year|this week|this month|"
    r"a while ago|ages ago|years ago|months ago)\b",
    re.I,
)
RELATIVE_DAYS = {
    "yesterday": 1,
    "this week": 3,
    "last week": 7,
    "this month": 14,
    "last month": 30,
    "last year": 365,
    "years ago": 730,
    "months ago": 91,
}
AGE_RE = re.compile(
    r"\b(?:i'?m|i am|im|aged?|age is|age:)\s*(?:actually\s+|now\s+|only\s+)?(?P<a>\d{1,3})\b"
    r"|\b(?P<b>\d{1,3})\s*(?:years?|yrs?|y/?o)\s*(?:old|of age)?\b",
    re.I,
)
# A score like "7", "7/10", "7 out of 10", or a bare number answering "how old are you?"
NUMBER_RE = re.compile(r"(?<![\w.])(?P<n>\d{1,3})(?:\s*(?:/|out of)\s*10)?(?![\w.%])", re.I)
# "twice a day", "once a week": how often, not how long ago.
FREQUENCY_BEFORE_RE = re.compile(r"\b(?:once|twice|times|per|every|each)\s*$", re.I)
WORD_NUMBER_RE = re.compile(
    r"\b(?P<w>"
    + "|".join(w for w, v in NUMBER_WORDS.items() if isinstance(v, int) and " " not in w and w not in ("a", "an"))
    + r")\b",
    re.I,
)


class ClinicalPipeline:
    """Blank-English spaCy pipeline with lexicon matching and negation."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.nlp = spacy.blank("en")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._labels: dict[int, tuple] = {}
        for (label, canonical), terms in self.lexicon.terms.items():
            key = f"{label}::{canonical}"
            self.matcher.add(key, [self.nlp.make_doc(t) for t in terms])
            self._labels[self.nlp.vocab.strings[key]] = (label, canonical)

    # -- public -------------------------------------------------------------
    def extract(self, text: str) -> list[dict[str, Any]]:
        if not text or not text.strip():
            return []
        doc = self.nlp.make_doc(text)
        entities = self._lexicon_entities(doc, text.lower())
        taken = [(e["start"], e["end"]) for e in entities]
        entities += self._duration_entities(text, taken)
        taken = [(e["start"], e["end"]) for e in entities]
        entities += self._number_entities(text, taken)
        return sorted(entities, key=lambda e: e["start"])

    # -- lexicon terms ------------------------------------------------------
    def _lexicon_entities(self, doc: Doc, lowered: str) -> list[dict[str, Any]]:
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)]
        # Longest match wins ("heart attack" over "attack"); a term listed in two sections
        # ("paracetamol": a medicine and a pain-relief treatment) keeps both readings.
        kept = {(s.start, s.end) for s in filter_spans(spans)}
        result = []
        for span in sorted(
            {(s.start, s.end, s.label): s for s in spans if (s.start, s.end) in kept}.values(), key=lambda s: s.start
        ):
            label, canonical = self._labels[span.label]
            result.append(
                self._entity(
                    label,
                    canonical,
                    span.start_char,
                    span.end_char,
                    span.text,
                    negated=self._is_negated(lowered, span.start_char, span.end_char),
                )
            )
        return result

    @staticmethod
    def _is_negated(lowered: str, start: int, end: int) -> bool:
        """The one negation reader (clinical/reading.py): a cue earlier in the clause, a
        "stopped" or "no longer" (medicines, conditions, treatments given up), or a cue
        right after ("pain free")."""
        return is_negated(lowered, start, [(start, end)], discontinued=True) or negated_after(lowered, end)

    # -- durations, ages, numbers -------------------------------------------
    def _duration_entities(self, text: str, taken) -> list[dict[str, Any]]:
        found = []
        for m in DURATION_RE.finditer(text):
            if FREQUENCY_BEFORE_RE.search(text[: m.start()]):
                continue
            num = m.group("num").lower()
            amount = float(NUMBER_WORDS.get(num, num) if not num.replace(".", "").isdigit() else num)
            if m.group("half1") or m.group("half2"):
                amount += 0.5
            days = round(amount * UNIT_DAYS[m.group("unit").lower()])
            found.append(self._entity("duration", days, m.start(), m.end(), m.group(0)))
        for m in RELATIVE_RE.finditer(text):
            rel = m.group("rel").lower()
            if rel in RELATIVE_DAYS and not _overlaps(m.start(), m.end(), [(e["start"], e["end"]) for e in found]):
                found.append(self._entity("duration", RELATIVE_DAYS[rel], m.start(), m.end(), m.group(0)))
        return [e for e in found if not _overlaps(e["start"], e["end"], taken)]

    def _number_entities(self, text: str, taken) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        # The entity's span is the number itself ("I'm [17]", "[7]/10"); the pattern
        # around it is what tells an age from a score.
        for m in AGE_RE.finditer(text):
            group = "a" if m.group("a") else "b"
            if not _overlaps(m.start(), m.end(), taken):
                found.append(self._entity("age", int(m.group(group)), m.start(group), m.end(group), m.group(group)))
        taken = taken + [(m.start(), m.end()) for m in AGE_RE.finditer(text)]
        for m in NUMBER_RE.finditer(text):
            if not _overlaps(m.start(), m.end(), taken):
                found.append(self._entity("number", int(m.group("n")), m.start("n"), m.end("n"), m.group("n")))
        taken = taken + [(e["start"], e["end"]) for e in found]
        for m in WORD_NUMBER_RE.finditer(text):
            if not _overlaps(m.start(), m.end(), taken):
                found.append(self._entity("number", NUMBER_WORDS[m.group("w").lower()], m.start(), m.end(), m.group(0)))
        return found

    @staticmethod
    def _entity(label: str, value: Any, start: int, end: int, text: str, negated: bool = False) -> dict[str, Any]:
        return {
            "entity": label,
            "value": value,
            "start": start,
            "end": end,
            "text": text,
            "confidence_entity": 1.0,
            "extractor": EXTRACTOR_NAME,
            "negated": negated,
        }


def _overlaps(start: int, end: int, spans) -> bool:
    return any(start < e and s < end for s, e in spans)


@lru_cache(maxsize=1)
def default_pipeline() -> ClinicalPipeline:
    return ClinicalPipeline()


def extract(text: str) -> list[dict[str, Any]]:
    return default_pipeline().extract(text)
