"""Reading answers as people type them: "yup", "nah not really", "I think so", "forty-two",
"in my forties", "mostly at night", "nothing", "ibuprofin". Pure Python.

The vocabulary is data (``answer_words.yml`` and each option's ``says`` in
questionnaire.yml); this module only applies it. Everything here errs towards asking
again: a value it is not sure of is never returned (a wrong value is worse than a re-ask).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from clinical.lexicon import load_lexicon
from clinical.reading import asks_something as _asks_something
from clinical.reading import is_negated, read

WORDS_PATH = Path(__file__).with_name("answer_words.yml")
HEDGE_WINDOW_WORDS = 4  # a hedge counts only near the start of a reply
FUZZY_MEDICINE_SCORE = 85  # rapidfuzz ratio; measured on misspellings in tests/test_typed_answers.py


def _alternation(terms: Iterable[str]) -> str:
    return "|".join(f"(?:{t})" for t in terms)


@dataclass(frozen=True)
class AnswerWords:
    leading_yes: re.Pattern
    leading_no: re.Pattern
    hedge: re.Pattern
    some: re.Pattern
    none: re.Pattern
    filler: re.Pattern
    trailing_yes: re.Pattern
    trailing_no: re.Pattern
    not_now: re.Pattern
    medicine_context: frozenset
    consent_yes: re.Pattern
    consent_no: re.Pattern
    summary_yes: re.Pattern
    summary_change: re.Pattern
    leading_statement_yes: re.Pattern
    person_wish: re.Pattern
    refusal: re.Pattern


@lru_cache(maxsize=2)
def answer_words(path: Path = WORDS_PATH) -> AnswerWords:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    fillers = _alternation(raw["fillers"])
    # An answer word at the start (after fillers), then the end, punctuation or a space.
    leading = r"^(?:(?:{f})[\s,.!-]+)*(?:{w})(?=$|[\s,.!?;:)-])"
    return AnswerWords(
        leading_yes=re.compile(leading.format(f=fillers, w=_alternation(raw["yes_words"]))),
        leading_no=re.compile(leading.format(f=fillers, w=_alternation(raw["no_words"]))),
        hedge=re.compile(r"(?<![a-z])(?:" + _alternation(raw["hedges"]) + ")"),
        some=re.compile(r"(?<![a-z])(?:" + _alternation(raw["some"]) + ")"),
        none=re.compile(r"(?<![a-z])(?:" + _alternation(raw["none"]) + ")"),
        filler=re.compile(fillers),
        # "I don't chew gum and I don't clench, so no", "I grind yeah"
        trailing_yes=re.compile(r"(?:^|[\s,.;-])(?:so |then )?(?:yes|yeah|yep|yup|yh)[\s.!]*$"),
        trailing_no=re.compile(r"(?:^|[\s,.;-])(?:so |then )(?:no|nope|nah)[\s.!]*$"),
        not_now=re.compile(r"(?<![a-z])(?:" + _alternation(raw["not_now"]) + ")"),
        medicine_context=frozenset(raw["medicine_context"]),
        consent_yes=re.compile(r"(?<![a-z])(?:" + _alternation(raw["consent_yes"]) + ")"),
        consent_no=re.compile(r"(?<![a-z])(?:" + _alternation(raw["consent_no"]) + ")"),
        summary_yes=re.compile(r"(?<![a-z])(?:" + _alternation(raw["summary_yes"]) + ")"),
        summary_change=re.compile(r"(?<![a-z])(?:" + _alternation(raw["summary_change"]) + ")"),
        leading_statement_yes=re.compile(leading.format(f=fillers, w=_alternation(raw["statement_yes_words"]))),
        person_wish=re.compile(r"(?<![a-z])(?:" + _alternation(raw["person_wishes"]) + ")"),
        refusal=re.compile(leading.format(f=fillers, w=_alternation(raw["refusals"]))),
    )


def normalised(text: str) -> str:
    """The one reading's text (clinical/reading.py): every reader here sees the same words."""
    return read(text).text


def leading_yes_no(text: str) -> str | None:
    """ "yes" / "no" when the reply starts with an answer word ("yup, every morning",
    "nah not really"), else None. "yes and no" and "no idea" are not answers."""
    t = normalised(text)
    words = answer_words()
    if is_hedged(t):
        return None
    if words.leading_yes.search(t):
        return "yes"
    if words.leading_statement_yes.search(t) and not asks_something(t):
        return "yes"
    if words.leading_no.search(t):
        return "no"
    if words.trailing_no.search(t):
        return "no"
    if words.trailing_yes.search(t):
        return "yes"
    return None


def asks_something(text: str) -> bool:
    """A question in the reply: the one question reader (clinical/reading.py)."""
    return _asks_something(normalised(text))


def wants_a_person(text: str) -> bool:
    """ "can I speak to someone", "please ring me back": a wish to reach a person."""
    return bool(answer_words().person_wish.search(normalised(text)))


def refuses(text: str) -> bool:
    """ "no", "I'd rather not", "never mind, I don't want to give my number": a refusal to
    give a free-text detail (a name, a phone number), never to be stored as one."""
    return bool(answer_words().refusal.search(normalised(text)))


def not_now(text: str) -> bool:
    """ "none at the moment", "not now", "cleared up": for questions about right now."""
    return bool(answer_words().not_now.search(normalised(text)))


def medicine_context_words() -> frozenset:
    """Words around medicines that name none ("for my back", "at night", "5mg")."""
    return answer_words().medicine_context


def is_hedged(text: str) -> bool:
    """ "I think so", "maybe", "kind of": a hedge within the first few words."""
    t = normalised(text)
    head = " ".join(t.split()[: HEDGE_WINDOW_WORDS + 2])
    match = answer_words().hedge.search(head)
    return bool(match) and len(head[: match.start()].split()) <= HEDGE_WINDOW_WORDS


def says_some(text: str) -> bool:
    """ "a bit", "sometimes", "mostly": some of it, i.e. yes (symptom questions only)."""
    return bool(answer_words().some.search(normalised(text)))


def says_none(text: str) -> bool:
    return bool(answer_words().none.search(normalised(text)))


def phrase_span(text: str, phrases: Iterable[str]) -> tuple[int, int] | None:
    """Where the reply uses one of the phrases, not negated in its clause ("my vision is
    fine, no blurring" does not say "blurred"); the longest such use, or None."""
    t = normalised(text)
    best = None
    for pattern in _compiled_phrases(tuple(phrases)):
        for match in pattern.finditer(t):
            if is_negated(t, match.start(), [match.span()]):
                continue
            if best is None or match.end() - match.start() > best[1] - best[0]:
                best = match.span()
    return best


@lru_cache(maxsize=256)
def _compiled_phrases(phrases: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    """Each option's phrases compiled once (they are read on every typed answer)."""
    return tuple(re.compile(r"(?<![a-z])(?:" + p + ")") for p in phrases)


def matches_any(text: str, phrases: Iterable[str]) -> bool:
    return phrase_span(text, phrases) is not None


@lru_cache(maxsize=1)
def _medicine_words() -> dict[str, str]:
    """Single-word term -> canonical id for every medicine in the lexicon, 5+ letters."""
    lexicon = load_lexicon()
    return {
        term: canonical
        for (label, canonical), terms in lexicon.terms.items()
        if label == "medicine"
        for term in terms
        if " " not in term and len(term) >= 5
    }


def fuzzy_medicines(words: Iterable[str]) -> list[tuple[str, str]]:
    """(word, medicine id) for misspelt medicine names ("ibuprofin", "warfrin")."""
    canonical = _medicine_words()
    choices = list(canonical)
    found = []
    for word in words:
        if len(word) < 5:
            continue
        best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_MEDICINE_SCORE)
        if best and best[0][0] == word[0]:
            found.append((word, canonical[best[0]]))
    return found


def read_consent(text: str) -> bool | None:
    """True / False for a typed reply to the consent question, None when unclear.
    A no anywhere wins over a yes ("ok but I'd rather not"): consent must be clear."""
    t = normalised(text)
    words = answer_words()
    if words.consent_no.search(t) or leading_yes_no(t) == "no":
        return False
    if is_hedged(t):
        return None
    if len(t.split()) >= 3 and asks_something(t) and leading_yes_no(t) is None:
        return None  # "before I agree, who reads this?": a question first, consent after
    if leading_yes_no(t) == "yes" or words.consent_yes.search(t):
        return True
    return None


def read_summary_reply(text: str) -> str | None:
    """ "confirm" / "change" for a typed reply to "Is this all correct?", else None.
    Wanting a change wins ("looks fine but the age is wrong")."""
    t = normalised(text)
    words = answer_words()
    if words.summary_change.search(t) or leading_yes_no(t) == "no" and not words.summary_yes.search(t):
        return "change"
    if leading_yes_no(t) == "yes" or words.summary_yes.search(t):
        return "confirm"
    return None
