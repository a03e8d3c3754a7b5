"""Erasure of one conversation and purging of old ones.

Both remove the conversation from every place the project keeps it: Rasa's tracker store
(``events``), the portal's tables (summary, review, notes, tags) and the consultation
requests table. The audit log keeps a record that it happened (ids and counts only).
The three stores can be different databases, so this is not one transaction: the portal's
rows go last, which means a failure part-way leaves the conversation listed and the
erasure can simply be run again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List

import sqlalchemy as sa

from actions.consultation_store import consultation_requests
from portal import audit

PORTAL_TABLES = ("portal_summaries", "portal_reviews", "portal_notes", "portal_tags")


@dataclass(frozen=True)
class Stores:
    tracker: sa.engine.Engine
    portal: sa.engine.Engine
    consultations: sa.engine.Engine


def _has_table(engine: sa.engine.Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


def _delete_in(conn, table: str, column: str, ids: List[str]) -> int:
    query = sa.text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    return conn.execute(query, {"ids": ids}).rowcount


def _erase_many(stores: Stores, ids: List[str]) -> Dict[str, int]:
    counts = {"events": 0, "consultation_requests": 0, "portal_rows": 0}
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start:start + 500]
        if _has_table(stores.tracker, "events"):
            with stores.tracker.begin() as conn:
                counts["events"] += _delete_in(conn, "events", "sender_id", chunk)
        if _has_table(stores.consultations, consultation_requests.name):
            with stores.consultations.begin() as conn:
                counts["consultation_requests"] += _delete_in(
                    conn, consultation_requests.name, "conversation_id", chunk)
        with stores.portal.begin() as conn:
            for table in PORTAL_TABLES:
                counts["portal_rows"] += _delete_in(conn, table, "conversation_id", chunk)
    return counts


def _describe(counts: Dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items())


def erase_conversation(stores: Stores, conversation_id: str, actor: str, ip: str = "") -> Dict[str, int]:
    counts = _erase_many(stores, [conversation_id])
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "erase", conversation_id, _describe(counts), ip)
    return counts


def conversations_older_than(stores: Stores, cutoff: float) -> List[str]:
    """Conversations whose last event (in the tracker store, the authority) is before cutoff,
    plus portal rows and consultation requests left behind for conversations already gone."""
    ids = set()
    if _has_table(stores.tracker, "events"):
        with stores.tracker.connect() as conn:
            ids |= {sid for (sid,) in conn.execute(sa.text(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :c"), {"c": cutoff})}
    with stores.portal.connect() as conn:
        ids |= {cid for (cid,) in conn.execute(sa.text(
            "SELECT conversation_id FROM portal_summaries WHERE last_event_at < :c"), {"c": cutoff})}
    if _has_table(stores.consultations, consultation_requests.name):
        with stores.consultations.connect() as conn:
            old = conn.execute(sa.select(consultation_requests.c.conversation_id).where(
                consultation_requests.c.created_at < _as_datetime(cutoff)))
            ids |= {cid for (cid,) in old}
    # A conversation still active after the cutoff is kept whole, whichever store said "old".
    return sorted(ids - _active_since(stores, cutoff))


def _active_since(stores: Stores, cutoff: float) -> set:
    if not _has_table(stores.tracker, "events"):
        return set()
    with stores.tracker.connect() as conn:
        return {sid for (sid,) in conn.execute(sa.text(
            "SELECT DISTINCT sender_id FROM events WHERE timestamp >= :c"), {"c": cutoff})}


def _as_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def purge(stores: Stores, older_than_days: float, actor: str) -> Dict[str, int]:
    if older_than_days <= 0:
        raise ValueError("older-than-days must be more than 0")
    cutoff = time.time() - older_than_days * 86400
    ids = conversations_older_than(stores, cutoff)
    counts = _erase_many(stores, ids) if ids else {"events": 0, "consultation_requests": 0, "portal_rows": 0}
    counts = {"conversations": len(ids), **counts}
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "purge", None, f"older_than_days={older_than_days:g}, " + _describe(counts))
    return counts
