"""The reply to "Are you safe right now?" (clinical reference section 8).

Only a clear yes is safe; so is a clear "I'm not having those thoughts" to the gentle question
asked after an indirect sign. Everything else is treated as not safe: a no, "I don't know",
"not really", a hedged yes ("yeah I guess", "for now"), more words of distress, or a reply
about something else (the person has not answered). A person wrongly taken as not safe is
shown the emergency number and crisis lines once more and offered a way on; a person wrongly
taken as safe may be left without help, so every doubt falls on the side of "not safe".

Pure Python on the one reading of a message (clinical/reading.py); the words are in
clinical/safety.yml (``distress.safe_answer``), reviewed with the rest of the safety net.

    >>> read_safe_answer("yes I'm safe, I'm at home with my partner")
    'safe'
    >>> read_safe_answer("I don't know, not really")
    'not_safe'
    >>> read_safe_answer("no no, I'm not having those thoughts, I meant the pain")
    'safe'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from clinical.reading import read
from clinical.safety_net import DISTRESS, SAFETY_PATH, says, scan
from clinical.typed_answers import answer_words, leading_yes_no

SAFE, NOT_SAFE = "safe", "not_safe"
_PUNCTUATION = re.compile(r"[^\w%'\s]+")


@dataclass(frozen=True)
class _SafeAnswerWords:
    safe: tuple[re.Pattern, ...]
    not_thinking_of_it: tuple[re.Pattern, ...]
    unclear: tuple[re.Pattern, ...]
    after_yes: tuple[re.Pattern, ...]  # what makes a yes word a clear yes


@lru_cache(maxsize=1)
def _words(path: Path = SAFETY_PATH) -> _SafeAnswerWords:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["distress"]["safe_answer"]

    def compiled(key: str) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(r"(?<![a-z])(?:" + p + ")") for p in raw[key])

    return _SafeAnswerWords(
        compiled("safe"), compiled("not_thinking_of_it"), compiled("unclear"), compiled("after_yes")
    )


def read_safe_answer(text: str) -> str:
    """SAFE or NOT_SAFE for a typed reply to "Are you safe right now?"."""
    reading = read(text or "")
    if any(f.kind == DISTRESS for f in scan(text or "", learned=False)):
        return NOT_SAFE  # more words of distress
    words = _words()
    for version in dict.fromkeys((reading.plain, reading.text)):
        if any(p.search(version) for p in words.unclear):
            return NOT_SAFE  # a hedge anywhere, even beside a denial, leaves it unclear
        if any(p.search(version) for p in words.not_thinking_of_it):
            return SAFE  # "no, I'm not having thoughts like that": the gentle question answered
        if leading_yes_no(version) == "no":
            continue
        # "I'm safe / I'm ok", not negated; or a yes word ("I am..." is not one: "I am alone
        # and the pills are here") alone or with words of being safe or of reassurance
        # ("yes it clicks" answers another question).
        if _says(words.safe, version):
            return SAFE
        yes_word = answer_words().leading_yes.search(version)
        if yes_word:
            rest = _PUNCTUATION.sub(" ", version[yes_word.end() :]).strip()
            if not rest or _says(words.after_yes, rest):
                return SAFE
    return NOT_SAFE


def _says(patterns: tuple[re.Pattern, ...], text: str) -> bool:
    """Some pattern occurs and is not negated in its clause ("I'm not ok" does not say "ok")."""
    return any(says(p, text) for p in patterns)
