"""One conversation's tracker events, split into the screenings it held.

"Start over" clears Rasa's slots (a ``reset_slots`` event from action_start_over, or
``restart`` from /restart), so the slots at the end of a conversation describe only the
last screening. A red flag raised before a start over must stay visible, so the
conversation page shows every screening: its answers, outcome, reasons, red flags and the
last question it reached.

Boundaries:
- ``reset_slots`` and ``restart`` always end the screening in progress.
- ``session_started`` also clears Rasa's slots, but this assistant's action_session_start
  sets them all again straight after (actions/conversation.py), so a new session usually
  carries the screening on. It ends the screening only when the person's next message
  arrives with no screening slot carried over (e.g. a deployment using Rasa's default
  session start).

A screening with no screening slot at all (a greeting then "start over") is not kept,
unless the conversation has nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from clinical.questionnaire import NOT_ASKED, load_questionnaire

RESET_EVENTS = ("reset_slots", "restart")
SESSION_EVENT = "session_started"
OUTCOME_SLOT = "screening_outcome"
REASONS_SLOT = "screening_reasons"
STATUS_SLOT = "screening_status"
REQUESTED_SLOT = "requested_slot"
CONSENT_SLOT = "consent_given"
# Where a screening stopped when it stopped at the summary of answers rather than at a
# question (screening_status "awaiting_confirmation": every question answered, not confirmed).
AT_SUMMARY = "summary"
AWAITING_CONFIRMATION = "awaiting_confirmation"


@lru_cache(maxsize=1)
def question_ids() -> tuple[str, ...]:
    return tuple(load_questionnaire().ids)


def screening_keys() -> frozenset[str]:
    """Slots whose value means a screening is under way or done."""
    return frozenset(question_ids()) | {CONSENT_SLOT, OUTCOME_SLOT, REASONS_SLOT}


@dataclass
class Screening:
    started_at: float | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    # every rf_ reason this screening ever set (an answer corrected later does not hide it)
    red_flags: list[str] = field(default_factory=list)
    reached: str | None = None  # the last question asked (or AT_SUMMARY)
    ended_by_start_over: bool = False
    number: int = 0  # 1 = the first screening of the conversation

    @property
    def outcome(self) -> str | None:
        return self.slots.get(OUTCOME_SLOT) or None

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def consented(self) -> bool:
        return self.slots.get(CONSENT_SLOT) is True

    @property
    def reasons(self) -> list[str]:
        value = self.slots.get(REASONS_SLOT)
        return [str(r) for r in value] if isinstance(value, list) else []

    @property
    def dropped_at(self) -> str | None:
        """The question an unfinished screening stopped at (None when finished)."""
        return None if self.finished else self.reached

    def has_content(self) -> bool:
        keys = screening_keys()
        return any(v not in (None, NOT_ASKED) for k, v in self.slots.items() if k in keys) or bool(self.red_flags)


def reached_question(name: str, value: Any, current: str | None) -> str | None:
    """Folds one slot event into "the last question the screening reached"; shared with the
    inbox index (portal/summaries.py) so the dashboard's drop-off and this page agree."""
    if name == REQUESTED_SLOT and value in question_ids():
        return str(value)
    if name == STATUS_SLOT and value == AWAITING_CONFIRMATION:
        return AT_SUMMARY
    return current


def split_screenings(events: Iterable[tuple[str, float | None, dict[str, Any]]]) -> list[Screening]:
    """Events as (type_name, timestamp, decoded data), oldest first; screenings oldest first."""
    keys = screening_keys()
    done: list[Screening] = []
    current = Screening()
    session_cleared = False  # a session start cleared the slots; split if nothing comes back
    carried: set[str] = set()  # screening slots set again since that session start

    def close(by_start_over: bool) -> None:
        nonlocal current
        if current.has_content():
            current.ended_by_start_over = by_start_over
            done.append(current)
        current = Screening()

    for type_name, timestamp, data in events:
        if type_name in RESET_EVENTS:
            close(by_start_over=True)
            continue
        if type_name == SESSION_EVENT:
            session_cleared, carried = True, set()
            continue
        if type_name == "user" and session_cleared:
            session_cleared = False
            if current.has_content() and not carried:
                close(by_start_over=False)
        if current.started_at is None and type_name in ("user", "bot", "slot"):
            current.started_at = timestamp
        if type_name != "slot":
            continue
        name, value = data.get("name"), data.get("value")
        if session_cleared and name in keys and value not in (None, NOT_ASKED):
            carried.add(name)
        current.slots[name] = value
        current.reached = reached_question(name, value, current.reached)
        if name == REASONS_SLOT and isinstance(value, list):
            current.red_flags += [str(r) for r in value if str(r).startswith("rf_") and str(r) not in current.red_flags]
    if current.has_content() or not done:
        done.append(current)
    for number, screening in enumerate(done, start=1):
        screening.number = number
    return done
