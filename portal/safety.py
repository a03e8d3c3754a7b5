"""The assistant's safety net as the portal reads it: the ``safety_flags`` and
``distress_flagged`` slots.

The assistant sets ``safety_flags`` to the whole list again each time it adds a flag, and
"start over" clears it, so a conversation's flags are the union of every list it was ever
set to, in the order they first appeared. ``distress`` is true once ``distress_flagged`` was
true or any flag was of kind "distress" (even one marked not certain: staff would rather
check one too many). Both the inbox index (summaries.py) and the conversation page
(transcript.py) fold slot events with ``fold_slot`` so they agree.

The slots are written by another process and may come from an older or newer assistant,
so anything malformed is skipped rather than failing the page or the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.folding import add_unseen

SAFETY_FLAGS_SLOT = "safety_flags"
DISTRESS_SLOT = "distress_flagged"
DISTRESS = "distress"
RED_FLAG = "red_flag"
WORDS_MAX = 2000  # a pasted essay must not blow up the page


@dataclass(frozen=True)
class SafetyFlag:
    kind: str  # "red_flag" or "distress"
    flag: str  # e.g. "chest"; "distress" for distress
    question: str | None  # question id being asked, None if said outside a question
    value: str | None  # the answer it stands for, e.g. "chest"
    words: str  # the person's own sentence (patient data)
    certain: bool
    at: float | None = None  # when the assistant first recorded it

    @property
    def key(self) -> tuple:
        return (self.kind, self.flag, self.question, self.value, self.words)

    @property
    def index_id(self) -> str:
        """How the inbox names it: the flag id, with the kind unless it is a red flag."""
        return self.flag if self.kind == RED_FLAG else f"{self.kind}:{self.flag}"


@dataclass
class SafetyNet:
    flags: list[SafetyFlag] = field(default_factory=list)
    distress: bool = False

    @property
    def any(self) -> bool:
        return self.distress or bool(self.flags)

    def fold_slot(self, name: Any, value: Any, timestamp: float | None = None) -> None:
        """Folds one slot event in; other slots are ignored."""
        if name == DISTRESS_SLOT and value is True:
            self.distress = True
        elif name == SAFETY_FLAGS_SLOT:
            flags = parse_flags(value, timestamp)
            add_unseen(self.flags, flags)
            if any(flag.kind == DISTRESS for flag in flags):
                self.distress = True


def _text(value: Any, limit: int = 80) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).strip()[:limit] or None


def parse_flags(value: Any, timestamp: float | None = None) -> list[SafetyFlag]:
    """The well-formed entries of one ``safety_flags`` value (a list of dicts)."""
    if not isinstance(value, list):
        return []
    flags = []
    for item in value:
        if not isinstance(item, dict):
            continue
        kind, flag = _text(item.get("kind"), 40), _text(item.get("flag"), 80)
        if not kind or not flag:
            continue
        words = item.get("words")
        flags.append(
            SafetyFlag(
                kind,
                flag,
                _text(item.get("question")),
                _text(item.get("value")),
                str(words)[:WORDS_MAX] if isinstance(words, str) else "",
                item.get("certain") is not False,
                timestamp,
            )
        )
    return flags
