"""Incremental conversation index for the inbox (``portal_summaries``).

The inbox lists, filters and pages conversations from this table; it never replays the
tracker store. ``summarise_new_events`` reads only tracker events with an id above the last
one it has seen (kept in ``portal_summariser_state``) and folds them into each
conversation's row, so the cost of a refresh grows with what was said since the last one,
not with the size of the store.

What a row holds, and why:
- outcome / reasons / ruleset_version: the latest values the screening set (the
  ``ruleset_version`` slot names the version of the screening rules that decided the
  outcome; conversations from before the slot existed have none). Starting over clears
  Rasa's slots but not this row, so a conversation keeps showing the last outcome it reached.
- red_flags: every ``rf_`` reason the conversation ever had, even if a later screening had
  none: a red flag is what staff must never miss.
- distress / safety_net_flags: from the assistant's safety net (portal/safety.py). Like
  red_flags they only ever grow: once the person said they want to die or harm themselves,
  or a safety-net red flag was raised, the row keeps it after a start over cleared the
  slots. safety_net_flags holds flag ids only (e.g. "chest"); the person's words stay in
  the tracker store and are read from there by the conversation page.
- person_requested: the person ever asked to talk to a person: the ``person_requested`` slot
  was ever true, or (when the refresh is given the consultation requests' database) the
  conversation has a consultation request with reason "asked_for_person". The request is
  stored by an action whose own events reach the tracker store after it, so the refresh that
  reads those events sees the request.
- consented: consent to the screening was ever given (the ``consent_given`` slot true).
- dropped_at: where the latest screening stopped when it did not finish: the last question
  it asked (``requested_slot``), or "summary" when every question was answered but the
  summary not confirmed. Reaching an outcome clears it, and so does "Start over" (the new
  screening starts from nothing); portal/screenings.py folds it the same way for the
  conversation page. A conversation can have an outcome (an earlier screening) and a
  dropped_at (a later one abandoned) at once. The dashboard's drop-off chart counts it.
- search_text: the person's own typed messages, lower-cased (button payloads are skipped;
  the bot's wording is the same in every conversation and would make every search match).

The questions the assistant could not answer go into ``portal_questions`` (one row per
question, portal/questions.py), in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from clinical.consultation_store import consultation_requests
from portal.questions import PERSON_SLOT, QUESTIONS_SLOT, QuestionLog, index_questions
from portal.safety import DISTRESS, DISTRESS_SLOT, SAFETY_FLAGS_SLOT, SafetyNet
from portal.screenings import CONSENT_SLOT, RESET_EVENTS, reached_question

BATCH_IDS = 20000  # events per read; bounds memory on a first run over a large store
DECODED_TYPES = ("user", "slot")  # the only events whose JSON the index needs
SUMMARY_COLUMNS = (
    "conversation_id",
    "started_at",
    "last_event_at",
    "channel",
    "outcome",
    "reasons",
    "red_flags",
    "consultation_requested",
    "user_messages",
    "search_text",
    "distress",
    "safety_net_flags",
    "person_requested",
    "ruleset_version",
    "consented",
    "dropped_at",
)
RULESET_SLOT = "ruleset_version"
RULESET_MAX = 200


def tracker_has_events(tracker: sa.engine.Engine) -> bool:
    return sa.inspect(tracker).has_table("events")


def _decode(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}  # a corrupt row must not stop the whole index
    return data if isinstance(data, dict) else {}


def apply_event(row: dict[str, Any], type_name: str, timestamp: float, data: dict[str, Any]) -> None:
    """Folds one tracker event into a summary row (a dict with SUMMARY_COLUMNS)."""
    if timestamp is not None:
        row["started_at"] = min(row["started_at"], timestamp) if row["started_at"] else timestamp
        row["last_event_at"] = max(row["last_event_at"] or 0, timestamp)
    if type_name in RESET_EVENTS:
        row["dropped_at"] = None  # "Start over": the next screening starts from nothing
    elif type_name == "user":
        row["user_messages"] += 1
        if data.get("input_channel"):
            row["channel"] = str(data["input_channel"])[:64]
        text = str(data.get("text") or "").strip()
        if text and not text.startswith("/"):
            row["search_text"] = (row["search_text"] + "\n" + text.lower()).lstrip("\n")
    elif type_name == "slot":
        name, value = data.get("name"), data.get("value")
        row["dropped_at"] = reached_question(name, value, row["dropped_at"])
        if name == "screening_outcome" and value:
            row["outcome"] = str(value)[:40]
            row["dropped_at"] = None  # finished
        elif name == CONSENT_SLOT and value is True:
            row["consented"] = 1
        elif name == RULESET_SLOT and value:
            row["ruleset_version"] = str(value)[:RULESET_MAX]
        elif name == "screening_reasons" and isinstance(value, list):
            reasons = [str(r) for r in value]
            row["reasons"] = json.dumps(reasons)
            flags = set(json.loads(row["red_flags"])) | {r for r in reasons if r.startswith("rf_")}
            row["red_flags"] = json.dumps(sorted(flags))
        elif name == "consultation_requested" and value is True:
            row["consultation_requested"] = 1
        elif name == PERSON_SLOT and value is True:
            row["person_requested"] = 1
        elif name in (SAFETY_FLAGS_SLOT, DISTRESS_SLOT):
            _apply_safety_net(row, name, value)


def _apply_safety_net(row: dict[str, Any], name: str, value: Any) -> None:
    net = SafetyNet()
    net.fold_slot(name, value)
    if net.distress:
        row["distress"] = 1
    ids = {f.index_id for f in net.flags if f.kind != DISTRESS}
    if ids:
        row["safety_net_flags"] = json.dumps(sorted(set(json.loads(row["safety_net_flags"])) | ids))


def _empty_row(conversation_id: str) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "started_at": None,
        "last_event_at": None,
        "channel": None,
        "outcome": None,
        "reasons": "[]",
        "red_flags": "[]",
        "consultation_requested": 0,
        "user_messages": 0,
        "search_text": "",
        "distress": 0,
        "safety_net_flags": "[]",
        "person_requested": 0,
        "ruleset_version": None,
        "consented": 0,
        "dropped_at": None,
    }


def _load_rows(conn, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = list(ids)
    if not ids:
        return {}
    query = sa.text(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM portal_summaries WHERE conversation_id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    return {r.conversation_id: dict(r._mapping) for r in conn.execute(query, {"ids": ids})}


def _save_rows(conn, rows: dict[str, dict[str, Any]], existing: set) -> None:
    new = [r for cid, r in rows.items() if cid not in existing]
    old = [r for cid, r in rows.items() if cid in existing]
    if new:
        conn.execute(
            sa.text(
                f"INSERT INTO portal_summaries ({', '.join(SUMMARY_COLUMNS)}) VALUES "
                f"({', '.join(':' + c for c in SUMMARY_COLUMNS)})"
            ),
            new,
        )
    if old:
        sets = ", ".join(f"{c} = :{c}" for c in SUMMARY_COLUMNS[1:])
        conn.execute(sa.text(f"UPDATE portal_summaries SET {sets} WHERE conversation_id = :conversation_id"), old)


def asked_for_person(consultations: sa.engine.Engine | None, ids: Iterable[str]) -> set:
    """Which of these conversations have a consultation request made because the person
    asked to talk to someone (reason "asked_for_person")."""
    ids = list(ids)
    if consultations is None or not ids:
        return set()
    inspector = sa.inspect(consultations)
    if not inspector.has_table(consultation_requests.name) or "request_reason" not in {
        c["name"] for c in inspector.get_columns(consultation_requests.name)
    }:
        return set()  # an action server older than the column: nothing to find
    table, found = consultation_requests, set()
    with consultations.connect() as conn:
        for start in range(0, len(ids), 500):  # bounded IN lists
            found |= {
                cid
                for (cid,) in conn.execute(
                    sa.select(table.c.conversation_id).where(
                        table.c.conversation_id.in_(ids[start : start + 500]),
                        table.c.request_reason == "asked_for_person",
                    )
                )
            }
    return found


def summarise_new_events(
    tracker: sa.engine.Engine, portal: sa.engine.Engine, consultations: sa.engine.Engine | None = None
) -> int:
    """Brings portal_summaries and portal_questions up to date; returns how many tracker
    events were read. With ``consultations`` (the consultation requests' database) a
    request with reason "asked_for_person" also sets person_requested."""
    if not tracker_has_events(tracker):
        return 0
    with tracker.connect() as tconn:
        high = tconn.execute(sa.text("SELECT MAX(id) FROM events")).scalar() or 0
    read = 0
    with portal.begin() as pconn:
        # A no-op write first: it takes the row lock (PostgreSQL) or the write lock (SQLite)
        # before reading the position, so two refreshes never fold the same events twice.
        pconn.execute(sa.text("UPDATE portal_summariser_state SET last_event_id = last_event_id WHERE id = 1"))
        last = pconn.execute(sa.text("SELECT last_event_id FROM portal_summariser_state WHERE id = 1")).scalar()
        if last >= high:
            if last > high:  # the newest events were deleted (see rewind): their ids will be used again
                pconn.execute(
                    sa.text("UPDATE portal_summariser_state SET last_event_id = :high WHERE id = 1"), {"high": high}
                )
            return 0
        low = last
        while low < high:
            upper = min(low + BATCH_IDS, high)
            with tracker.connect() as tconn:
                # Every event counts for the start and last-activity times; only user and slot
                # events need their JSON, so the others are read without it.
                events = tconn.execute(
                    sa.text(
                        "SELECT sender_id, type_name, timestamp, "
                        "CASE WHEN type_name IN ('user', 'slot') THEN data END AS data FROM events "
                        "WHERE id > :low AND id <= :upper ORDER BY id"
                    ),
                    {"low": low, "upper": upper},
                ).fetchall()
            read += len(events)
            rows = _load_rows(pconn, {e.sender_id for e in events})
            existing = set(rows)
            logs: dict[str, QuestionLog] = {}
            for e in events:
                row = rows.setdefault(e.sender_id, _empty_row(e.sender_id))
                data = _decode(e.data) if e.type_name in DECODED_TYPES else {}
                apply_event(row, e.type_name, e.timestamp, data)
                if e.type_name == "slot" and data.get("name") == QUESTIONS_SLOT:
                    logs.setdefault(e.sender_id, QuestionLog()).fold_slot(
                        QUESTIONS_SLOT, data.get("value"), e.timestamp
                    )
            for cid in asked_for_person(consultations, rows):
                rows[cid]["person_requested"] = 1
            _save_rows(pconn, rows, existing)
            index_questions(pconn, {cid: log.questions for cid, log in logs.items()})
            low = upper
        pconn.execute(sa.text("UPDATE portal_summariser_state SET last_event_id = :high WHERE id = 1"), {"high": high})
    return read


def rewind(portal: sa.engine.Engine, highest_left: int) -> None:
    """Called after events were deleted, with the highest event id left. SQLite gives new
    rows the ids of the newest rows deleted (Rasa's events.id has no AUTOINCREMENT), so
    after erasing the newest conversation the next conversation's first events would have
    ids at or below the position and never be read: bring the position down to what is
    left. (PostgreSQL's sequences never reuse an id; there it changes nothing that exists.)
    Not atomic with the delete (they may be two databases): a refresh running in between,
    after more new events than were deleted arrived, would read some of them again on the
    next refresh (message count and search text doubled for that conversation; flags and
    questions are sets)."""
    with portal.begin() as conn:
        conn.execute(
            sa.text("UPDATE portal_summariser_state SET last_event_id = :h WHERE id = 1 AND last_event_id > :h"),
            {"h": highest_left},
        )


def rebuild(tracker: sa.engine.Engine, portal: sa.engine.Engine, consultations: sa.engine.Engine | None = None) -> int:
    """Drops every summary and indexed question and reads the whole tracker store again.
    Staff's question statuses and notes (portal_question_status) are kept."""
    with portal.begin() as conn:
        conn.execute(sa.text("DELETE FROM portal_summaries"))
        conn.execute(sa.text("DELETE FROM portal_questions"))
        conn.execute(sa.text("UPDATE portal_summariser_state SET last_event_id = 0 WHERE id = 1"))
    return summarise_new_events(tracker, portal, consultations)
