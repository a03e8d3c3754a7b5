"""The held-out question set (tests/questions/) through the trained assistant.

Each case is asked in a new conversation, at one of two points that take turns: as the very
first message (before consent) or in the middle of the questionnaire (after consent, while
the first screening question waits). What the assistant replied is read back as one of:
an entry id (that entry's answer was sent), "unknown" (no checked answer, passed to the
clinic), "out_of_scope", "person" (the clinic's contact details), "bot", or "other".
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions import tracker_utils as tu
from clinical.knowledge import knowledge, replies

ROOT = Path(__file__).resolve().parents[2]
POINTS = ("first_message", "questionnaire")
NON_ANSWERS = ("unknown", "out_of_scope")


def load_cases(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / "tests" / "questions" / f"{name}.yml").read_text(encoding="utf-8"))["cases"]


def _fill(text: str) -> str:
    return " ".join(text.format(**tu.settings().placeholders()).split())


def what_was_said(messages: list[dict[str, Any]]) -> list[str]:
    """What the replies were, in the vocabulary of the question set's `expect` values."""
    said = " ".join(" ".join((m.get("text") or "").split()) for m in messages)
    settings = tu.settings()
    found = [e.id for e in knowledge().entries if " ".join(e.text_for(settings).split()) in said]
    if _fill(replies()["no_checked_answer"]) in said:
        found.append("unknown")
    if _fill(replies()["person_contact"]) in said or _fill(replies()["callback_start"]) in said:
        found.append("person")
    if "I'm an automated assistant" in said:
        found.append("bot")
    if "booking" not in found and " ".join(settings.booking_instructions.split()) in said:
        found.append("booking")  # "how do I book" is also the book_consultation intent's
    if "I can only help with jaw pain" in said:
        found.append("out_of_scope")
    return found


def offered(messages: list[dict[str, Any]]) -> list[str]:
    """The entries offered as "answers that might help" buttons."""
    ids = []
    for message in messages:
        for button in message.get("buttons") or []:
            payload = button.get("payload") or ""
            if payload.startswith("/ask_question{"):
                ids.append(json.loads(payload[len("/ask_question") :])["faq_entry"])
    return ids


@dataclass
class QuestionOutcome:
    case: dict[str, Any]
    point: str
    said: list[str]
    pending_repeated: bool | None = None  # mid-questionnaire: the question came back
    offered: list[str] = field(default_factory=list)

    @property
    def right_or_offered(self) -> bool:
        return self.right or (self.expect in self.offered and not self.wrong_entry)

    @property
    def expect(self) -> str:
        return self.case["expect"]

    @property
    def entries_given(self) -> list[str]:
        return [s for s in self.said if s not in ("unknown", "out_of_scope", "person", "bot")]

    @property
    def right(self) -> bool:
        if self.expect == "unanswerable":
            return any(s in NON_ANSWERS for s in self.said) and not self.entries_given
        return self.said == [self.expect]

    @property
    def wrong_entry(self) -> bool:
        """An answer from an entry that does not answer this question: the failure that
        matters most (reference section 7)."""
        return any(e != self.expect for e in self.entries_given)


def run_case(assistant, case: dict[str, Any], index: int) -> QuestionOutcome:
    sender = f"questions-{case['id']}-{uuid.uuid4().hex[:6]}"
    point = POINTS[index % len(POINTS)]
    if point == "questionnaire":
        assistant.say(sender, "hi")
        assistant.say(sender, "yes")
    pending = assistant.slots(sender).get("requested_slot")
    messages = assistant.say(sender, case["text"])
    outcome = QuestionOutcome(case, point, what_was_said(messages), offered=offered(messages))
    if point == "questionnaire" and case["expect"] not in ("person",):
        # The question asked before is asked again, and nothing was recorded as its answer.
        outcome.pending_repeated = (
            assistant.slots(sender).get("requested_slot") == pending and assistant.slots(sender).get(pending) is None
        )
    return outcome


@dataclass
class QuestionReport:
    outcomes: list[QuestionOutcome] = field(default_factory=list)

    def _of(self, kind: str) -> list[QuestionOutcome]:
        if kind == "answerable":
            return [o for o in self.outcomes if o.expect not in ("unanswerable", "person", "bot")]
        return [o for o in self.outcomes if o.expect == kind]

    @staticmethod
    def _share(items: list[bool]) -> float:
        return sum(items) / len(items) if items else 0.0

    def right_entry(self) -> float:
        return self._share([o.right for o in self._of("answerable")])

    def right_or_offered(self) -> float:
        return self._share([o.right_or_offered for o in self._of("answerable")])

    def unknown_when_unanswerable(self) -> float:
        return self._share([o.right for o in self._of("unanswerable")])

    def wrong_entry(self) -> float:
        asked = self._of("answerable") + self._of("unanswerable")
        return self._share([o.wrong_entry for o in asked])

    def person(self) -> float:
        return self._share([o.right for o in self._of("person")])

    def bot(self) -> float:
        return self._share([o.right for o in self._of("bot")])

    def pending_repeated(self) -> float:
        return self._share([bool(o.pending_repeated) for o in self.outcomes if o.pending_repeated is not None])

    def lines(self, name: str, show_text: bool) -> list[str]:
        unanswerable = self._of("unanswerable")
        non_answers = Counter(s for o in unanswerable for s in o.said if s in NON_ANSWERS)
        out = [
            f"== questions, {name}: {len(self.outcomes)} cases ==",
            f"  answered with the right entry   {self.right_entry():6.1%}  ({len(self._of('answerable'))} answerable)",
            f"  right entry, or offered to tap  {self.right_or_offered():6.1%}",
            f"  unanswerable -> no answer       {self.unknown_when_unanswerable():6.1%}  "
            f"({len(unanswerable)}; {non_answers['unknown']} 'no checked answer', "
            f"{non_answers['out_of_scope']} out of scope)",
            f"  given a wrong entry             {self.wrong_entry():6.1%}",
            f"  'talk to a person' understood   {self.person():6.1%}  ({len(self._of('person'))})",
            f"  'are you a bot' understood      {self.bot():6.1%}  ({len(self._of('bot'))})",
            f"  mid-questionnaire: question repeated, nothing recorded {self.pending_repeated():6.1%}",
        ]
        if not show_text:
            return out  # a sealed part: totals only, no ids, no failure list
        for o in self.outcomes:
            if not o.right or o.wrong_entry or o.pending_repeated is False:
                text = f" {o.case['text']!r}"
                out.append(
                    f"  {'WRONG' if o.wrong_entry else 'MISS '} {o.case['id']} at={o.point} "
                    f"expect={o.expect} got={o.said} offered={o.offered} repeated={o.pending_repeated}{text}"
                )
        return out
