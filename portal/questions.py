"""Questions the assistant could not answer, and people who asked to talk to a person, as
the portal reads them: the ``unanswered_questions`` and ``person_requested`` slots.

The assistant sets ``unanswered_questions`` to the whole list again each time it adds one
(items ``{"words": ..., "at": <epoch>, "context": <question id, "consent", "summary",
"booking", "outcome" or null>}``), and "start over" clears it, so a conversation's
questions are the union of every list it was ever set to, in the order they first
appeared. ``person_requested`` counts once it was ever true. Like the safety net
(portal/safety.py) the slots come from another process, so a malformed item is skipped,
never an error.

Unlike the safety net, the portal keeps the words in its own table: the "Questions
without an answer" page lists every conversation's questions, which must not replay the
tracker store. ``portal_questions`` is an index like ``portal_summaries`` (emptied and
built again by ``rebuild-index``); what staff decide about a question (done / open, a
short note) is in ``portal_question_status``, keyed by conversation and ``Question.key``,
which depends only on the item itself, so rebuilding the index keeps it. Erasure and
retention delete both (portal/erasure.py).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from clinical.questionnaire import load_questionnaire
from portal.folding import add_unseen
from portal.inbox import csv_document, iso_utc
from portal.paging import status_and_page

QUESTIONS_SLOT = "unanswered_questions"
PERSON_SLOT = "person_requested"
WORDS_MAX = 500  # the assistant's own limit; a longer value is cut here too
CONTEXT_MAX = 80
NOTE_MAX = 200
OPEN, DONE = "open", "done"
STATUSES = (OPEN, DONE)
STATUS_FILTERS = (OPEN, DONE, "all")
# Where a question was asked, other than during a questionnaire question (whose id it is).
CONTEXT_WORDS = {
    "consent": "At the consent question, before the screening",
    "summary": "While checking the summary of their answers",
    "booking": "While giving contact details for a consultation",
    "outcome": "After the screening's outcome",
}
# Columns of the questions export (docs/staff-portal.md); add new ones at the end only.
CSV_COLUMNS = ("asked_at_utc", "conversation_id", "asked_where", "context", "words", "status", "note")


@dataclass(frozen=True)
class Question:
    words: str  # the person's question (patient data)
    at: float | None  # when the assistant recorded it, from the item (None: not given)
    context: str | None  # question id, "consent", "summary", "booking", "outcome" or None
    first_seen: float | None = None  # the slot event that first held it

    @property
    def key(self) -> str:
        """Identifies the question within its conversation: the same item set again, or read
        again by a rebuilt index, has the same key."""
        raw = json.dumps([self.words, self.at, self.context], ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    @property
    def asked_at(self) -> float | None:
        return self.at if self.at is not None else self.first_seen


@dataclass
class QuestionLog:
    """Every unanswered question a conversation ever had, and whether the person ever asked
    for a person. Both the index (summaries.py) and the conversation page (transcript.py)
    fold slot events with ``fold_slot`` so they agree."""

    questions: list[Question] = field(default_factory=list)
    person_requested: bool = False

    def fold_slot(self, name: Any, value: Any, timestamp: float | None = None) -> None:
        if name == PERSON_SLOT and value is True:
            self.person_requested = True
        elif name == QUESTIONS_SLOT:
            add_unseen(self.questions, parse_questions(value, timestamp))


def _at(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None


def parse_questions(value: Any, timestamp: float | None = None) -> list[Question]:
    """The well-formed items of one ``unanswered_questions`` value (a list of dicts): each
    needs some words; a missing or odd time falls back to the slot event's, an odd context
    to none."""
    if not isinstance(value, list):
        return []
    questions = []
    for item in value:
        if not isinstance(item, dict):
            continue
        words = item.get("words")
        if not isinstance(words, str) or not words.strip():
            continue
        context = item.get("context")
        context = (context.strip()[:CONTEXT_MAX] or None) if isinstance(context, str) else None
        questions.append(Question(words.strip()[:WORDS_MAX], _at(item.get("at")), context, timestamp))
    return questions


def where_asked(context: str | None) -> str:
    """Where the question was asked, in plain words for staff."""
    if not context:
        return "Outside the screening questions"
    if context in CONTEXT_WORDS:
        return CONTEXT_WORDS[context]
    try:
        return f"During the question: {load_questionnaire().get(context).summary}"
    except KeyError:  # renamed or removed since the conversation: show the id only
        return f"During the question {context}"


# ---- the index (portal_questions) ----------------------------------------------------


def index_questions(conn, found: Mapping[str, list[Question]]) -> int:
    """Adds the questions not yet indexed (conversation id -> questions in the order they
    appeared); returns how many were added. The first appearance wins."""
    ids = [cid for cid, questions in found.items() if questions]
    if not ids:
        return 0
    existing = set()
    for start in range(0, len(ids), 500):
        query = sa.text(
            "SELECT conversation_id, question_key FROM portal_questions WHERE conversation_id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True))
        existing |= {
            (r.conversation_id, r.question_key) for r in conn.execute(query, {"ids": ids[start : start + 500]})
        }
    rows = []
    for cid in ids:
        for q in found[cid]:
            if (cid, q.key) not in existing and q.asked_at is not None:
                existing.add((cid, q.key))
                rows.append({"c": cid, "k": q.key, "at": q.asked_at, "ctx": q.context, "w": q.words})
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO portal_questions (conversation_id, question_key, asked_at, context, "
                "words) VALUES (:c, :k, :at, :ctx, :w)"
            ),
            rows,
        )
    return len(rows)


STATUS_JOIN = (
    "LEFT JOIN portal_question_status st ON st.conversation_id = q.conversation_id AND st.question_key = q.question_key"
)
IS_OPEN = "COALESCE(st.status, 'open') = 'open'"


def open_count(engine: sa.engine.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text(f"SELECT COUNT(*) FROM portal_questions q {STATUS_JOIN} WHERE {IS_OPEN}")).scalar()
        )


class StatusFilterError(ValueError):
    """A filter value the questions page cannot use; the message says which and why."""


def parse_status_filter(args: Mapping[str, str]) -> tuple[str, int]:
    """The page's ?status= (open by default, done or all) and ?page=."""
    return status_and_page(args, STATUS_FILTERS, OPEN, StatusFilterError)


def _decorate(row) -> dict[str, Any]:
    out = dict(row._mapping)
    out["status"] = out["status"] or OPEN
    out["where"] = where_asked(out["context"])
    return out


def listing(
    engine: sa.engine.Engine, status: str = "all", page_size: int | None = None, page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """Questions across conversations, newest first, with their status, and how many match.
    page_size None: all of them (the export)."""
    where = {OPEN: f" WHERE {IS_OPEN}", DONE: " WHERE st.status = 'done'"}.get(status, "")
    base = f"FROM portal_questions q {STATUS_JOIN}{where}"
    sql = (
        f"SELECT q.conversation_id, q.question_key, q.asked_at, q.context, q.words, st.status, st.note, "
        f"st.updated_by, st.updated_at {base} ORDER BY q.asked_at DESC, q.conversation_id, q.question_key"
    )
    params: dict[str, Any] = {}
    if page_size:
        sql += " LIMIT :limit OFFSET :offset"
        params = {"limit": page_size, "offset": (page - 1) * page_size}
    with engine.connect() as conn:
        total = int(conn.execute(sa.text(f"SELECT COUNT(*) {base}")).scalar())
        rows = [_decorate(r) for r in conn.execute(sa.text(sql), params)]
    return rows, total


def statuses_for(engine: sa.engine.Engine, conversation_id: str) -> dict[str, dict[str, Any]]:
    """A conversation's question statuses by question key."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT question_key, status, note, updated_by, updated_at "
                "FROM portal_question_status WHERE conversation_id = :c"
            ),
            {"c": conversation_id},
        )
        return {r.question_key: dict(r._mapping) for r in rows}


def is_indexed(conn, conversation_id: str, key: str) -> bool:
    return (
        conn.execute(
            sa.text("SELECT 1 FROM portal_questions WHERE conversation_id = :c AND question_key = :k"),
            {"c": conversation_id, "k": key},
        ).first()
        is not None
    )


def set_status(conn, conversation_id: str, key: str, status: str, note: str, actor: str) -> None:
    """Records what staff decided (inside the caller's transaction). The note is kept as
    given, also when a question goes back to open."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    params = {"c": conversation_id, "k": key}
    conn.execute(sa.text("DELETE FROM portal_question_status WHERE conversation_id = :c AND question_key = :k"), params)
    conn.execute(
        sa.text(
            "INSERT INTO portal_question_status (conversation_id, question_key, status, note, "
            "updated_by, updated_at) VALUES (:c, :k, :s, :n, :by, :at)"
        ),
        {**params, "s": status, "n": note or None, "by": actor, "at": time.time()},
    )


def conversation_items(log: QuestionLog, statuses: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A conversation's questions in the order asked, with where and their status, for its page."""
    items = []
    for q in log.questions:
        status = statuses.get(q.key) or {}
        items.append(
            {
                "question_key": q.key,
                "words": q.words,
                "at": q.asked_at,
                "context": q.context,
                "where": where_asked(q.context),
                "status": status.get("status") or OPEN,
                "note": status.get("note"),
                "updated_by": status.get("updated_by"),
                "updated_at": status.get("updated_at"),
            }
        )
    return items


def to_csv(rows: list[dict[str, Any]]) -> str:
    return csv_document(
        CSV_COLUMNS,
        [
            (
                iso_utc(r["asked_at"]),
                r["conversation_id"],
                r["where"],
                r["context"] or "",
                r["words"],
                r["status"],
                r["note"] or "",
            )
            for r in rows
        ],
    )
