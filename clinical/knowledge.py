"""Patients' questions and the clinic's reviewed answers (``clinical/knowledge.yml``).

Pure Python (no Rasa): the action server, the evaluation and the tests all load the same
file through ``load_knowledge`` and ask ``KnowledgeBase.match`` which entry answers a
question. ``match`` returns no entry when it is not confident: a patient told "I don't have
a checked answer" is better off than one given a neighbouring answer (reference section 7).

How a question is matched (measured in docs/knowledge-base.md):
- similarity to each entry's example questions: TF-IDF cosine over words (and word pairs)
  plus over character n-grams (which absorb typos and word endings), the best example counts;
- minus a penalty for content words the knowledge base has never seen ("can I fly after?":
  nothing here is about flying, however close "after" and "can I" are to the aftercare
  entries); a misspelt known word ("pregnent") is not unknown;
- below ``MatchSettings.threshold``, or less than ``margin`` ahead of the second-best entry,
  there is no match: the patient is told so, and the nearest entries are offered as
  answers that might help (the patient chooses; nothing is answered unasked). The numbers
  are calibrated on tests/questions/development.yml (bench/calibrate_knowledge.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from clinical.clinic import ClinicSettings
from clinical.reading import question_starts, read
from clinical.wording import REFERENCE_LANGUAGE, wording

DEFAULT_PATH = Path(__file__).resolve().parent / "knowledge.yml"
PENDING = "pending"
REQUIRED_FIELDS = ("id", "topic", "answer", "source", "review", "examples")
KNOWN_FIELDS = set(REQUIRED_FIELDS) | {"clinic_setting"}

# Words that carry no topic: greetings, hedges and the way people lead into a question.
FILLER_WORDS = frozenset(
    """
    hi hello hey hiya thanks thank cheers please ok okay yeah yes just really actually also
    wondering wonder wondered curious question questions quick ask asking know tell told like want
    wanted need needed get getting got bit lot lots anyone someone thing things stuff kind sort
    guess maybe probably basically honestly tbh lol sorry mean means sure right thats whats hows
    dont doesnt didnt cant wont isnt arent im ive id youre theres gonna wanna let lets say
    """.split()
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | FILLER_WORDS
WORD_RE = re.compile(r"[a-z0-9]+")


# Where a message splits into sentences or clauses: "yes - who sees my answers?" holds a
# question after the answer; "im off on holiday soon, how long does it last" a question
# after some context.
@lru_cache(maxsize=1)
def clause_end() -> re.Pattern:
    # The question words are the one question reader's (clinical/reading.py).
    return re.compile(rf"(?<=[?!.;])\s+|\s+[-–—]+\s+|,\s+(?=(?:{question_starts()})\b)", re.I)


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    answer: str
    source: str
    review: str  # "pending" or the ISO date the medical lead signed it off
    examples: tuple[str, ...]
    clinic_setting: str | None = None  # e.g. "aftercare.alcohol": the clinic's own words win

    def text_for(self, settings: ClinicSettings) -> str:
        """What the patient is told: the clinic's own setting when it gives one, else the
        reviewed answer, with the clinic's details filled in."""
        own = settings.setting(self.clinic_setting) if self.clinic_setting else ""
        # A wording file may translate the answer (knowledge_answers, docs/wording.md).
        answer = settings.wording.override("knowledge_answers", self.id) or self.answer
        return (own or answer).format(**settings.placeholders()).strip()


@dataclass(frozen=True)
class MatchSettings:
    """Calibrated on the development question set (docs/knowledge-base.md)."""

    threshold: float = 0.45  # the best example's similarity, after the penalty, must reach this
    margin: float = 0.10  # and be this far ahead of the second-best entry's
    unknown_penalty: float = 1.2  # times the share of content words never seen in the knowledge base
    word_weight: float = 0.5  # the rest is the character n-gram similarity
    # Below the threshold, entries at least this similar (before the penalty) are offered as
    # "answers that might help", never given unasked. 0 offers the nearest ones whatever.
    suggest_threshold: float = 0.3
    suggestions: int = 3


@dataclass(frozen=True)
class Match:
    entry: Entry | None
    score: float
    best_id: str | None  # the nearest entry even when it was not confident enough
    unknown_words: tuple[str, ...] = ()
    # When there is no confident entry: the nearest ones, for the patient to choose from.
    suggestions: tuple[Entry, ...] = ()


def normalise(text: str) -> str:
    """The one reading of the question (chat spellings read, typing errors corrected),
    as plain words without apostrophes."""
    return " ".join(WORD_RE.findall(read(text).text.replace("'", "")))


def question_part(text: str) -> str:
    """The clauses that ask ("yes, how long does it last?" -> "how long does it last?");
    the whole text when no clause is marked as a question."""
    clauses = [c.strip() for c in clause_end().split(text or "") if c and c.strip()]
    asked = [c for c in clauses if c.endswith("?")]
    return " ".join(asked) if asked and len(asked) < len(clauses) else (text or "").strip()


def content_words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if len(w) > 2 and w not in STOP_WORDS and not w.isdigit()]


@dataclass
class KnowledgeBase:
    entries: tuple[Entry, ...]
    settings: MatchSettings = field(default_factory=MatchSettings)

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.entries}
        self._rows: list[int] = []  # example row -> entry index
        texts: list[str] = []
        for index, entry in enumerate(self.entries):
            for example in entry.examples:
                texts.append(normalise(example))
                self._rows.append(index)
        self._words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[a-z0-9]+")
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._word_matrix = self._words.fit_transform(texts)
        self._char_matrix = self._chars.fit_transform(texts)
        self._vocabulary = {
            word for e in self.entries for word in content_words(" ".join((e.topic, e.answer, *e.examples)))
        }

    def get(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def unknown_words(self, question: str) -> tuple[str, ...]:
        """Content words no entry has ever used, allowing for a typo in
        a longer word."""
        unknown = []
        for word in content_words(question):
            if word in self._vocabulary or any(
                form in self._vocabulary or form in STOP_WORDS for form in _other_forms(word)
            ):
                continue
            if len(word) >= 5 and process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=85):
                continue
            unknown.append(word)
        return tuple(unknown)

    def scores(self, question: str) -> list[tuple[float, Entry]]:
        """Every entry's similarity to the question, best first (before any penalty): the
        best of its examples, words and characters weighted by ``word_weight``."""
        text = normalise(question)
        if not text:
            return []
        w = self.settings.word_weight
        similarity = (
            w * (self._word_matrix @ self._words.transform([text]).T).toarray().ravel()
            + (1 - w) * (self._char_matrix @ self._chars.transform([text]).T).toarray().ravel()
        )
        best: dict[int, float] = {}
        for row, value in enumerate(similarity):
            index = self._rows[row]
            best[index] = max(best.get(index, 0.0), float(value))
        return sorted(((score, self.entries[i]) for i, score in best.items()), key=lambda p: -p[0])

    def match(self, question: str) -> Match:
        ranked = self.scores(question)
        if not ranked:
            return Match(None, 0.0, None)
        unknown = self.unknown_words(question)
        content = content_words(question)
        penalty = self.settings.unknown_penalty * (len(unknown) / len(content)) if content else 0.0
        score, entry = ranked[0]
        score -= penalty
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        confident = score >= self.settings.threshold and ranked[0][0] - runner_up >= self.settings.margin
        suggestions = (
            ()
            if confident
            else tuple(
                e
                for similarity, e in ranked[: self.settings.suggestions]
                if similarity >= self.settings.suggest_threshold
            )
        )
        return Match(entry if confident else None, score, entry.id, unknown, suggestions)


def _other_forms(word: str) -> tuple[str, ...]:
    """The same word with another ending ("sees" -> "see", "exercising" -> "exercise"):
    inflections only, not stems, so "tested" is known from "test" but "animals" stays new."""
    forms = [word + "s", word + "e"]
    for suffix, replacements in (
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ing", ("", "e")),
        ("ed", ("", "e")),
        ("d", ("",)),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms += [word[: -len(suffix)] + r for r in replacements]
    return tuple(forms)


def load_knowledge(path: Path = DEFAULT_PATH, settings: MatchSettings = None) -> KnowledgeBase:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = tuple(_entry(path, item) for item in raw.get("entries") or [])
    problems = validate(entries)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return KnowledgeBase(entries, settings or MatchSettings())


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The clinic's knowledge base, loaded once per process."""
    return load_knowledge()


def replies(language: str = REFERENCE_LANGUAGE) -> dict[str, Any]:
    """The frame around answers: "I don't have a checked answer", reaching a person (the
    wording catalogue's ``replies`` section, clinical/wording/<language>.yml)."""
    return wording(language).section("replies")


def reply(key: str, settings: ClinicSettings) -> str:
    """One of those replies in the clinic's language, with the clinic's details filled in."""
    return settings.say(f"replies.{key}")


def _entry(path: Path, item: Any) -> Entry:
    if not isinstance(item, dict):
        raise ValueError(f"{path}: each entry is a mapping: {item!r}")
    missing = [f for f in REQUIRED_FIELDS if not item.get(f)]
    unknown = sorted(set(item) - KNOWN_FIELDS)
    if missing or unknown:
        raise ValueError(f"{path}: entry {item.get('id')!r}: missing {missing or '-'}, unknown {unknown or '-'}")
    return Entry(
        id=str(item["id"]),
        topic=str(item["topic"]).strip(),
        answer=str(item["answer"]).strip(),
        source=str(item["source"]).strip(),
        review=str(item["review"]).strip(),
        examples=tuple(str(e).strip() for e in item["examples"]),
        clinic_setting=item.get("clinic_setting"),
    )


def validate(entries: Sequence[Entry]) -> list[str]:
    """What the medical lead's file must get right; [] when it is fine."""
    problems: list[str] = []
    seen_ids, seen_examples = set(), {}
    for e in entries:
        if e.id in seen_ids:
            problems.append(f"duplicate id {e.id}")
        seen_ids.add(e.id)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", e.id):
            problems.append(f"{e.id}: ids are lower_case_with_underscores")
        if e.review != PENDING and not _is_iso_date(e.review):
            problems.append(f"{e.id}: review is 'pending' or the sign-off date (YYYY-MM-DD), not {e.review!r}")
        if e.clinic_setting and not re.fullmatch(r"(aftercare\.[a-z_]+|follow_up)", e.clinic_setting):
            problems.append(f"{e.id}: unknown clinic_setting {e.clinic_setting}")
        for example in e.examples:
            key = normalise(example)
            if key in seen_examples and seen_examples[key] != e.id:
                problems.append(f"example {example!r} is in both {seen_examples[key]} and {e.id}")
            seen_examples[key] = e.id
    return problems


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def undeclared_placeholders(entries: Iterable[Entry], known: Mapping[str, str]) -> list[str]:
    """Placeholders an answer names that the clinic settings do not provide."""
    return sorted(
        {f"{e.id}: {{{name}}}" for e in entries for name in re.findall(r"{([a-z_]+)}", e.answer) if name not in known}
    )
