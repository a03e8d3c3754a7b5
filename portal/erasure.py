"""Erasure of one conversation and purging of old ones.

Both remove the conversation from every place the project keeps it: Rasa's tracker store
(``events``), the portal's tables (summary, review, notes, tags, the unanswered questions
with the person's words and staff's status and note for each, the call-back queue's
contact records with their notes) and the consultation
requests table. The audit log keeps a record that it happened, but not the conversation id:
on the messaging channels the id is the person's phone number or Telegram chat id, so every
audit entry about the conversation gets a random reference instead ("erased-…", the same
for all of one conversation's entries; the erasure page and the command line show it once,
for the clinic's record of the request). See docs/data-flow.md.

On SQLite the deletes run with ``secure_delete`` on, so the deleted text is overwritten in
the database file instead of lingering in free pages (not every SQLite build does that by
default).

The three stores can be different databases, so this is not one transaction: the portal's
rows go last, which means a failure part-way leaves the conversation listed and the
erasure can simply be run again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from clinical.consultation_store import consultation_requests
from portal import audit, summaries

PORTAL_TABLES = (
    "portal_summaries",
    "portal_reviews",
    "portal_notes",
    "portal_tags",
    "portal_questions",
    "portal_question_status",
    "portal_contact_events",
)


@dataclass(frozen=True)
class Stores:
    tracker: sa.engine.Engine
    portal: sa.engine.Engine
    consultations: sa.engine.Engine


def _has_table(engine: sa.engine.Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


def _delete_in(conn, table: str, column: str, ids: list[str]) -> int:
    query = sa.text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(sa.bindparam("ids", expanding=True))
    return conn.execute(query, {"ids": ids}).rowcount


def _overwrite_deleted(conn) -> None:
    # Per connection: SQLite then zeroes deleted content instead of leaving it in free pages.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def new_reference() -> str:
    """What the audit log says instead of an erased conversation's id."""
    return f"erased-{secrets.token_hex(6)}"


def _erase_many(stores: Stores, ids: list[str], references: dict[str, str]) -> dict[str, int]:
    counts = {"events": 0, "consultation_requests": 0, "portal_rows": 0}
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        if _has_table(stores.tracker, "events"):
            with stores.tracker.begin() as conn:
                _overwrite_deleted(conn)
                counts["events"] += _delete_in(conn, "events", "sender_id", chunk)
                # read inside the delete's transaction: on SQLite it holds the write lock, so
                # no new event can have taken a freed id yet
                highest_left = conn.execute(sa.text("SELECT MAX(id) FROM events")).scalar() or 0
            summaries.rewind(stores.portal, highest_left)
        if _has_table(stores.consultations, consultation_requests.name):
            with stores.consultations.begin() as conn:
                _overwrite_deleted(conn)
                counts["consultation_requests"] += _delete_in(
                    conn, consultation_requests.name, "conversation_id", chunk
                )
        with stores.portal.begin() as conn:
            _overwrite_deleted(conn)
            for table in PORTAL_TABLES:
                counts["portal_rows"] += _delete_in(conn, table, "conversation_id", chunk)
            for conversation_id in chunk:
                conn.execute(
                    sa.text("UPDATE portal_audit SET conversation_id = :ref WHERE conversation_id = :c"),
                    {"ref": references[conversation_id], "c": conversation_id},
                )
    return counts


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items())


@dataclass(frozen=True)
class Erased:
    counts: dict[str, int]  # rows deleted per store
    reference: str  # what the audit log calls the conversation from now on


def erase_conversation(stores: Stores, conversation_id: str, actor: str, ip: str = "") -> Erased:
    reference = new_reference()
    counts = _erase_many(stores, [conversation_id], {conversation_id: reference})
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "erase", reference, _describe(counts), ip)
    return Erased(counts, reference)


def conversations_older_than(stores: Stores, cutoff: float) -> list[str]:
    """Conversations whose last event (in the tracker store, the authority) is before cutoff,
    plus portal rows and consultation requests left behind for conversations already gone."""
    ids = set()
    if _has_table(stores.tracker, "events"):
        with stores.tracker.connect() as conn:
            ids |= {
                sid
                for (sid,) in conn.execute(
                    sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :c"), {"c": cutoff}
                )
            }
    with stores.portal.connect() as conn:
        ids |= {
            cid
            for (cid,) in conn.execute(
                sa.text("SELECT conversation_id FROM portal_summaries WHERE last_event_at < :c"), {"c": cutoff}
            )
        }
        # Staff's notes on questions and contact records outlive the index (a rebuild keeps
        # them): find those too.
        for table, column in (("portal_question_status", "updated_at"), ("portal_contact_events", "at")):
            ids |= {
                cid
                for (cid,) in conn.execute(
                    sa.text(f"SELECT DISTINCT conversation_id FROM {table} WHERE {column} < :c"), {"c": cutoff}
                )
            }
    if _has_table(stores.consultations, consultation_requests.name):
        with stores.consultations.connect() as conn:
            old = conn.execute(
                sa.select(consultation_requests.c.conversation_id).where(
                    consultation_requests.c.created_at < _as_datetime(cutoff)
                )
            )
            ids |= {cid for (cid,) in old}
    # A conversation still active after the cutoff is kept whole, whichever store said "old".
    return sorted(ids - _active_since(stores, cutoff))


def _active_since(stores: Stores, cutoff: float) -> set:
    if not _has_table(stores.tracker, "events"):
        return set()
    with stores.tracker.connect() as conn:
        return {
            sid
            for (sid,) in conn.execute(
                sa.text("SELECT DISTINCT sender_id FROM events WHERE timestamp >= :c"), {"c": cutoff}
            )
        }


def _as_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def purge(stores: Stores, older_than_days: float, actor: str) -> dict[str, int]:
    if older_than_days <= 0:
        raise ValueError("older-than-days must be more than 0")
    cutoff = time.time() - older_than_days * 86400
    ids = conversations_older_than(stores, cutoff)
    references = {cid: new_reference() for cid in ids}
    counts = (
        _erase_many(stores, ids, references) if ids else {"events": 0, "consultation_requests": 0, "portal_rows": 0}
    )
    counts = {"conversations": len(ids), **counts}
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "purge", None, f"older_than_days={older_than_days:g}, " + _describe(counts))
    return counts
