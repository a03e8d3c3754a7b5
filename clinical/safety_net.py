"""The safety net: red flags and distress in a patient's own words, on every message.

Pure Python (no Rasa, no spaCy), driven by ``safety.yml``, so the NLU pipeline, the input
guard in front of it and the actions all read a message the same way, and the clinic's
medical lead reviews data, not code.

    >>> [f.flag for f in scan("my chest feels heavy and the ache goes into my arm")]
    ['chest']
    >>> scan("no chest pain or anything like that")
    []

A pattern is a set of terms that must all occur in one sentence, none negated in its
clause. Negation is deliberately simple and conservative: a cue word before a term in the
same clause ("no", "not", "never", "n't", "without"...). Words inside a matched term are
not cues, so "I can't breathe" is a flag and "I don't have trouble breathing" is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from clinical import distress_model
from clinical.reading import CLAUSE_BREAK as READING_CLAUSE_BREAK
from clinical.reading import is_negated, normalise, read
from clinical.wording import REFERENCE_LANGUAGE, wording

SAFETY_PATH = Path(__file__).with_name("safety.yml")

SCAN_LIMIT = 20_000  # characters of an over-long message the input guard has read
RED_FLAG = "red_flag"
# Red-flag questions about right now (emergency and same-day signs), for ``resolved``.
_NOW_QUESTIONS = ("rf_emergency", "rf_gca", "rf_locked_jaw", "rf_abscess")
DISTRESS = "distress"
# The flag of a distress finding from an indirect sign only (a burden, no point, goodbyes,
# saving up tablets...): the reply first asks gently whether the person is thinking of
# ending their life (clinical reference s.8).
INDIRECT = "distress_indirect"
# Distress is denied only by a cue close before it ("I would never hurt myself", "I don't
# want to die"): a "doesn't matter anyway" earlier in the clause does not take "off myself" away.
DISTRESS_NEGATION_WORDS = 2

# Sentences end at . ! ? ; and new lines; negation and clauses are clinical/reading.py's.
_SENTENCE_SPLIT = re.compile(r"[.!?;\n]+")
_CONTRAST = re.compile(r"\b(?:but|however|though|although|whereas)\b")


@dataclass(frozen=True)
class Finding:
    kind: str  # RED_FLAG or DISTRESS
    flag: str  # id in safety.yml ("chest", "locked_jaw", "distress")
    words: str  # the sentence it was found in, for staff
    certain: bool = True  # False: ask the person once to confirm
    question: str | None = None  # red flags: the question this answers...
    value: str | None = None  # ...and the answer it records
    needs_age: bool = False


@dataclass(frozen=True)
class _Flag:
    id: str
    question: str
    value: str
    patterns: tuple[tuple[re.Pattern, ...], ...]
    confirm_patterns: tuple[tuple[re.Pattern, ...], ...]
    confirm_at: tuple[str, ...]
    certain_at: tuple[str, ...]
    unless: tuple[re.Pattern, ...]
    needs_age: bool
    skip_at: tuple[str, ...]


# Where a sentence divides into clauses, for telling a question about a side effect from a
# report ("my face went numb, can it cause that?").
CLAUSE_BREAK = READING_CLAUSE_BREAK


@dataclass(frozen=True)
class SafetyNet:
    flags: tuple[_Flag, ...]
    distress: tuple[tuple[re.Pattern, ...], ...]
    not_distress: tuple[re.Pattern, ...]
    hedges: tuple[re.Pattern, ...]
    indirect: tuple[tuple[re.Pattern, ...], ...] = ()
    about_others: tuple[re.Pattern, ...] = ()
    about_the_treatment: tuple[re.Pattern, ...] = ()
    resolved: tuple[re.Pattern, ...] = ()
    remote_past: tuple[re.Pattern, ...] = ()
    history_counts: tuple[str, ...] = ()

    def scan(
        self, text: str, at: str | None = None, answers: Mapping[str, Any] | None = None, learned: bool = True
    ) -> list[Finding]:
        """Every red flag and distress sign in ``text``: distress first, then red flags
        in safety.yml's order (most serious first). ``at`` is the question being asked,
        ``answers`` the answers so far (both optional: the NLU knows neither). With
        ``learned``, the distress model reads what the patterns did not flag."""
        answers = answers or {}
        findings: list[Finding] = []
        # The plain words and the one reading's corrected words: a correction of a typing
        # error can add a red flag ("chest tigthness") but never take one away.
        sentences_ = _sentences(text)
        plain_count = len(sentences_)
        corrected = _sentences(read(text).text)
        sentences_ += [s for s in corrected if s not in sentences_]
        # A hedge anywhere ("maybe? there's a bad taste") makes every match uncertain.
        hedged = any(h.search(s) for s in sentences_ for h in self.hedges)
        for flag in self.flags:
            if at in flag.skip_at:
                continue
            found = self._scan_flag(flag, sentences_, hedged, at)
            if found and self._over_now(found, flag):
                continue
            if found:
                findings.append(found)
        distress = self._distress(sentences_, plain_count)
        if distress is None and learned and not findings:
            # The model reads only messages with no red flag: it was not trained on
            # reports of physical signs, and a red flag is acted on anyway.
            # Figures of speech are taken out first, as for the patterns ("to die for").
            plain = sentences_[:plain_count]
            literal = [_without(self.not_distress, s) for s in plain]
            part = distress_model.sign_in(". ".join(literal), literal)
            if part:
                # Staff see the person's sentence (or the whole message) as typed.
                words = plain[literal.index(part)] if part in literal else ". ".join(plain)
                distress = Finding(DISTRESS, INDIRECT, words, certain=False)
        return ([distress] if distress else []) + findings

    def _distress(self, sentences_: list[str], plain_count: int) -> Finding | None:
        """Direct words of distress in any sentence, else an indirect sign. A figure of
        speech ("this pain is killing me") is taken out of the sentence first: alone it is
        not distress, and it never hides another sign in the same sentence."""
        literal = [(s, _without(self.not_distress, s)) for s in sentences_]
        for sentence, words in literal:
            if any(_matches(p, words, DISTRESS_NEGATION_WORDS) for p in self.distress):
                return Finding(DISTRESS, DISTRESS, sentence)
        for sentence, words in literal:
            if any(_matches(p, words, DISTRESS_NEGATION_WORDS) for p in self.indirect):
                return Finding(DISTRESS, INDIRECT, sentence)
        # An indirect sign told over two sentences ("I gave my dog to my brother. I won't be
        # around much longer"): the terms of a pattern may sit in different sentences.
        whole = ". ".join(words for _, words in literal)
        if any(len(p) > 1 and _matches(p, whole, DISTRESS_NEGATION_WORDS) for p in self.indirect):
            return Finding(DISTRESS, INDIRECT, ". ".join(sentences_[:plain_count]))
        return None

    def _scan_flag(self, flag: _Flag, sentences_: list[str], hedged: bool, at: str | None) -> Finding | None:
        best: Finding | None = None
        for sentence in sentences_:
            # At the flag's own question (or where safety.yml says so) a weaker sign is the
            # person's answer to exactly that question, not something to confirm.
            weak_is_enough = at in flag.certain_at or at == flag.question
            strong = any(
                _matches(p, sentence) for p in flag.patterns + (flag.confirm_patterns if weak_is_enough else ())
            )
            weak = not strong and any(_matches(p, sentence) for p in flag.confirm_patterns)
            if not (strong or weak):
                continue
            # Only a sentence that names the sign is checked for what takes it away.
            if flag.id not in self.history_counts and any(p.search(sentence) for p in self.remote_past):
                continue  # "after Botox in 2016 my face swelled": history, not a sign now
            if (
                any(says(p, sentence) for p in flag.unless)
                or any(p.search(sentence) for p in self.about_others)
                or (at != flag.question and self._asks_what_the_treatment_does(flag, sentence))
            ):
                continue
            certain = strong and at not in flag.confirm_at and not hedged
            finding = Finding(RED_FLAG, flag.id, sentence, certain, flag.question, flag.value, flag.needs_age)
            if certain:
                return finding
            best = best or finding
        return best

    def _asks_what_the_treatment_does(self, flag: _Flag, sentence: str) -> bool:
        """ "could it give me a droopy face?": a question about a side effect. Only when every
        clause that names the sign asks it: "my face went numb, can it cause that?" names
        the sign in a clause of its own, so it is still the person's red flag."""
        if not any(p.search(sentence) for p in self.about_the_treatment):
            return False
        patterns = flag.patterns + flag.confirm_patterns
        naming = [c for c in CLAUSE_BREAK.split(sentence) if any(_matches(p, c) for p in patterns)]
        return bool(naming) and all(any(p.search(c) for p in self.about_the_treatment) for c in naming)

    def _over_now(self, finding: Finding, flag: _Flag) -> bool:
        """ "my face isn't swollen any more": a sign about right now that is over."""
        return flag.question in _NOW_QUESTIONS and any(p.search(finding.words) for p in self.resolved)

    def current_part(self, text: str, question_id: str) -> str:
        """The message without the parts told in an explicitly remote past ("years ago I
        had an abscess, but nothing like that now" -> "nothing like that now"), for the
        answer to a red-flag question about now; the questions about a lasting condition
        (``history_counts``) keep every part."""
        if any(f.question == question_id and f.id in self.history_counts for f in self.flags):
            return text
        parts = [p for s in _sentences(text) for p in _CONTRAST.split(s)]
        kept = [p.strip(" ,") for p in parts if p.strip(" ,") and not any(r.search(p) for r in self.remote_past)]
        return ". ".join(kept)

    def flag_ids(self) -> list[str]:
        return [f.id for f in self.flags]

    def about_someone_else(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.about_others)


def sentences(text: str) -> list[str]:
    """The message's sentences, lower case, with curly apostrophes made straight."""
    return _sentences(text)


def compile_patterns(raw) -> tuple[tuple[re.Pattern, ...], ...]:
    """safety.yml's pattern format (terms that must all occur in one sentence), for other
    data files that use it (questionnaire.yml's yes_patterns)."""
    return _patterns(raw)


def sentence_matches(pattern: Sequence[re.Pattern], sentence: str) -> bool:
    """All terms of the pattern occur in the sentence, none negated in its clause."""
    return _matches(pattern, sentence)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(normalise(text)) if s.strip()]


def _matches(terms: Sequence[re.Pattern], sentence: str, words_before: int | None = None) -> bool:
    """All terms occur in the sentence and none is negated in its clause (with
    ``words_before``, by a cue at most that many words before it)."""
    spans = []
    for term in terms:
        match = term.search(sentence)
        if match is None:
            return False
        spans.append(match.span())
    return not any(is_negated(sentence, start, spans, words_before=words_before) for start, _ in spans)


def _without(patterns: Sequence[re.Pattern], sentence: str) -> str:
    """The sentence with every match of ``patterns`` blanked out (kept the same length)."""
    for pattern in patterns:
        sentence = pattern.sub(lambda m: " " * len(m.group(0)), sentence)
    return sentence


def says(pattern: re.Pattern, sentence: str) -> bool:
    """The pattern occurs, not negated ("without dieting" does not say "diet")."""
    return any(not is_negated(sentence, m.start(), [m.span()]) for m in pattern.finditer(sentence))


def _compile(term: str) -> re.Pattern:
    # Terms match at the start of a word: "arm" never inside "harm" or "alarm".
    return re.compile(r"(?<![a-z])(?:" + term + ")")


def _patterns(raw) -> tuple[tuple[re.Pattern, ...], ...]:
    return tuple(tuple(_compile(t) for t in pattern) for pattern in raw or ())


@lru_cache(maxsize=4)
def load_safety_net(path: Path = SAFETY_PATH) -> SafetyNet:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    flags = tuple(
        _Flag(
            id=f["id"],
            question=f["question"],
            value=str(f["value"]),
            patterns=_patterns(f.get("patterns")),
            confirm_patterns=_patterns(f.get("confirm_patterns")),
            confirm_at=tuple(f.get("confirm_at") or ()),
            certain_at=tuple(f.get("certain_at") or ()),
            unless=tuple(_compile(u) for u in f.get("unless") or ()),
            needs_age=bool(f.get("needs_age")),
            skip_at=tuple(f.get("skip_at") or ()),
        )
        for f in raw["red_flags"]
    )
    ids = [f.id for f in flags]
    if len(ids) != len(set(ids)):
        raise ValueError("Duplicate red-flag ids in safety.yml")
    distress = raw["distress"]
    return SafetyNet(
        flags=flags,
        distress=_patterns(distress["patterns"]),
        not_distress=tuple(_compile(p) for p in distress.get("not_distress") or ()),
        indirect=_patterns(distress.get("indirect_patterns")),
        hedges=tuple(_compile(h) for h in raw.get("hedges") or ()),
        about_others=tuple(_compile(p) for p in raw.get("about_others") or ()),
        about_the_treatment=tuple(_compile(p) for p in raw.get("about_the_treatment") or ()),
        resolved=tuple(_compile(p) for p in raw.get("resolved") or ()),
        remote_past=tuple(_compile(p) for p in raw.get("remote_past") or ()),
        history_counts=tuple(raw.get("history_counts") or ()),
    )


def scan(
    text: str, at: str | None = None, answers: Mapping[str, Any] | None = None, learned: bool = True
) -> list[Finding]:
    """The safety net's reading of a message at a point of the conversation, read once:
    the NLU, the form validation and the safety actions ask for the same message in turn.
    ``learned=False`` leaves the distress model out (the reply to "Are you safe right
    now?" is read by its own reader, where only the patterns' words of distress count)."""
    return list(_scan_once(text or "", at, learned))


@lru_cache(maxsize=512)
def _scan_once(text: str, at: str | None, learned: bool = True) -> tuple[Finding, ...]:
    # Findings depend on the words and the point only (``answers`` is read by no flag).
    return tuple(load_safety_net().scan(text, at, learned=learned))


def safety_excerpt(text: str, max_chars: int) -> str:
    """The sentences of ``text`` in which the safety net finds something (any red flag or
    distress), joined and cut to ``max_chars``; "" when it finds nothing. Lets the input
    guard pass on what matters from a message it would otherwise refuse. Reads the first
    SCAN_LIMIT characters: far more than anyone types, and a bound on the work a huge
    paste can cause."""
    net = load_safety_net()
    kept = [s for s in _SENTENCE_SPLIT.split((text or "")[:SCAN_LIMIT]) if s.strip() and net.scan(s)]
    return ". ".join(s.strip() for s in kept)[:max_chars]


@lru_cache(maxsize=4)
def safety_messages(language: str = REFERENCE_LANGUAGE) -> Mapping[str, Any]:
    """The safety net's patient-facing wording: the wording catalogue's ``safety`` section
    (clinical/wording/<language>.yml), as a nested mapping."""
    return wording(language).section("safety")
