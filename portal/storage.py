"""Every database read and write the portal's routes make, as named functions.

The routes (portal/routes/) call only these, never SQL: each function opens its own
transaction on the stores it needs and records the audit entry inside the same one as the
change (so the change and its record are committed together or not at all). Everything
here is synchronous and may wait on a database: routes run it through ``pages.db`` /
``pages.off_loop``, which puts it on a worker thread, never on the event loop.

Table ownership in the portal database (``portal_*``, schema in db.py):
- reviews, notes and tags: here.
- staff, sessions, login failures: accounts.py (called from here).
- audit log: audit.py (``record`` inside the caller's transaction).
- conversation index (summaries, summariser state) and unanswered questions with staff's
  statuses: summaries.py, inbox.py (queries), questions.py.
- the consultation requests table belongs to the Rasa-free core
  (clinical/consultation_store.py); the portal reads it and keeps its contacted column in
  step with the call-back queue's contact records (callbacks.py, called from here).
- erasure and purge across all three databases: erasure.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from clinical.consultation_store import add_missing_columns, consultation_requests
from portal import accounts, audit, callbacks, dashboard, db, erasure, inbox, questions, summaries
from portal.erasure import Stores
from portal.transcript import Conversation, load_conversation
from portal.transcript import conversation_exists as _conversation_exists

# ---- start-up and the index ------------------------------------------------------


def prepare(stores: Stores) -> int:
    """Migrates the portal's tables, brings an old consultation table up to date and the
    index up to the tracker store; returns how many events the index read."""
    db.migrate(stores.portal)
    # An action server older than the request_reason column may not have added it yet.
    add_missing_columns(stores.consultations)
    return refresh_index(stores)


def refresh_index(stores: Stores) -> int:
    return summaries.summarise_new_events(stores.tracker, stores.portal, stores.consultations)


# ---- staff sessions ----------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    staff: accounts.Staff | None  # None: refused
    token: str = ""  # the new session's cookie value
    wait: float = 0.0  # > 0: throttled, try again in this many seconds


def sign_in(
    stores: Stores,
    username: str,
    password: str,
    ip: str,
    max_failures: int,
    lockout_seconds: float,
    idle_seconds: float,
) -> SignIn:
    """Checks throttling, then the password; starts a session on success. Every outcome is
    audited. Sessions abandoned without signing out are purged here too."""
    keys = accounts.throttle_keys(username, ip)
    now = time.time()
    with stores.portal.begin() as conn:
        wait = accounts.blocked_for(conn, keys, now)
        if wait > 0:
            audit.record(conn, username or "(blank)", "sign_in_throttled", ip=ip)
            return SignIn(None, wait=wait)
    with stores.portal.begin() as conn:
        accounts.delete_expired_sessions(conn, idle_seconds)
        staff = accounts.check_password(conn, username, password) if username and password else None
        if staff is None:
            accounts.record_failure(conn, keys, now, max_failures, lockout_seconds)
            audit.record(conn, username or "(blank)", "sign_in_failed", ip=ip)
            return SignIn(None)
        accounts.clear_failures(conn, keys)
        token = accounts.start_session(conn, staff)
        audit.record(conn, staff.username, "sign_in", ip=ip)
    return SignIn(staff, token)


def resume_session(stores: Stores, token: str, idle_seconds: float) -> accounts.Session | None:
    with stores.portal.begin() as conn:
        return accounts.resume_session(conn, token, idle_seconds)


def sign_out(stores: Stores, token: str, actor: str, ip: str) -> None:
    with stores.portal.begin() as conn:
        accounts.end_session(conn, token)
        audit.record(conn, actor, "sign_out", ip=ip)


def purge_expired_sessions(stores: Stores, idle_seconds: float) -> int:
    """Deletes sessions idle for longer than idle_seconds; returns how many."""
    with stores.portal.begin() as conn:
        return accounts.delete_expired_sessions(conn, idle_seconds)


# ---- inbox and export ----------------------------------------------------------------


def open_question_count(stores: Stores) -> int:
    return questions.open_count(stores.portal)


def inbox_page(stores: Stores, filters: inbox.Filters, page_size: int):
    """(rows, total, channels, tags) for one inbox page, after refreshing the index."""
    refresh_index(stores)
    rows, total = inbox.search(stores.portal, filters, page_size)
    return rows, total, inbox.channels(stores.portal), inbox.all_tags(stores.portal)


def export_inbox(stores: Stores, filters: inbox.Filters, detail: str, actor: str, ip: str) -> list[dict[str, Any]]:
    """Every matching conversation (the CSV export), audited."""
    refresh_index(stores)
    rows, total = inbox.search(stores.portal, filters, None)
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "export_csv", detail=f"rows={total} {detail}", ip=ip)
    return rows


# ---- one conversation ----------------------------------------------------------------


@dataclass
class ConversationRecords:
    conversation: Conversation
    review: Any  # row with reviewed, reviewed_by, reviewed_at, or None
    notes: list[Any]  # rows with author, created_at, body, oldest first
    tags: list[str]
    consultations: list[Any]  # consultation request rows
    question_statuses: dict[str, dict[str, Any]]


def conversation_exists(stores: Stores, conversation_id: str) -> bool:
    return _conversation_exists(stores.tracker, conversation_id)


def view_conversation(
    stores: Stores, conversation_id: str, action: str, actor: str, ip: str
) -> ConversationRecords | None:
    """Everything stored about one conversation, or None when it has no events; the view
    (action "view_conversation" or "print_conversation") is audited."""
    conversation = load_conversation(stores.tracker, conversation_id)
    if conversation is None:
        return None
    with stores.portal.connect() as conn:
        review = conn.execute(
            sa.text("SELECT reviewed, reviewed_by, reviewed_at FROM portal_reviews WHERE conversation_id = :c"),
            {"c": conversation_id},
        ).first()
        notes = conn.execute(
            sa.text("SELECT author, created_at, body FROM portal_notes WHERE conversation_id = :c ORDER BY id"),
            {"c": conversation_id},
        ).fetchall()
        tags = inbox.tags_for(conn, [conversation_id]).get(conversation_id, [])
    records = ConversationRecords(
        conversation,
        review,
        notes,
        tags,
        consultations_for(stores, conversation_id),
        questions.statuses_for(stores.portal, conversation_id),
    )
    with stores.portal.begin() as conn:
        audit.record(conn, actor, action, conversation_id, ip=ip)
    return records


def has_consultation_requests(stores: Stores) -> bool:
    """Whether the consultation requests table exists (the action server creates it)."""
    return sa.inspect(stores.consultations).has_table(consultation_requests.name)


def consultations_for(stores: Stores, conversation_id: str) -> list[Any]:
    """The conversation's consultation requests, each with its contact history
    (callbacks.CallbackItem: the request's columns, contacted by whom and when, notes)."""
    return callbacks_for(stores, conversation_id)


def set_reviewed(stores: Stores, conversation_id: str, reviewed: bool, actor: str, ip: str) -> None:
    with stores.portal.begin() as conn:
        conn.execute(sa.text("DELETE FROM portal_reviews WHERE conversation_id = :c"), {"c": conversation_id})
        conn.execute(
            sa.text(
                "INSERT INTO portal_reviews (conversation_id, reviewed, reviewed_by, reviewed_at) "
                "VALUES (:c, :r, :by, :at)"
            ),
            {"c": conversation_id, "r": int(reviewed), "by": actor, "at": time.time()},
        )
        audit.record(conn, actor, "mark_reviewed" if reviewed else "mark_unreviewed", conversation_id, ip=ip)


def add_note(stores: Stores, conversation_id: str, body: str, actor: str, ip: str) -> None:
    with stores.portal.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO portal_notes (conversation_id, author, created_at, body) VALUES (:c, :a, :t, :b)"),
            {"c": conversation_id, "a": actor, "t": time.time(), "b": body},
        )
        audit.record(conn, actor, "add_note", conversation_id, ip=ip)


def change_tag(stores: Stores, conversation_id: str, tag: str, remove: bool, actor: str, ip: str) -> None:
    with stores.portal.begin() as conn:
        params = {"c": conversation_id, "t": tag}
        conn.execute(sa.text("DELETE FROM portal_tags WHERE conversation_id = :c AND tag = :t"), params)
        if not remove:
            conn.execute(
                sa.text("INSERT INTO portal_tags (conversation_id, tag, added_by, added_at) VALUES (:c, :t, :by, :at)"),
                {**params, "by": actor, "at": time.time()},
            )
        audit.record(conn, actor, "remove_tag" if remove else "add_tag", conversation_id, detail=f"tag={tag}", ip=ip)


def mark_contacted(stores: Stores, conversation_id: str, request_id: int, actor: str, ip: str) -> bool:
    """Marks a consultation request of this conversation contacted; False if there is none.
    (The conversation page's old form: a contact record like the queue's, without a note.)"""
    if request_id == callbacks.PERSON_ONLY:
        return False
    return record_contact(stores, conversation_id, request_id, "contacted", "", actor, ip)


# ---- questions the assistant could not answer -------------------------------------------


def questions_page(stores: Stores, status: str, page_size: int, page: int) -> tuple[list[dict[str, Any]], int]:
    refresh_index(stores)
    return questions.listing(stores.portal, status, page_size, page)


def export_questions(stores: Stores, status: str, actor: str, ip: str) -> list[dict[str, Any]]:
    refresh_index(stores)
    rows, total = questions.listing(stores.portal, status)
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "export_questions_csv", detail=f"rows={total} status={status}", ip=ip)
    return rows


def set_question_status(
    stores: Stores, conversation_id: str, key: str, status: str, note: str, actor: str, ip: str
) -> bool:
    """Records staff's status and note for an indexed question; False if it is not indexed."""
    refresh_index(stores)
    with stores.portal.begin() as conn:
        if not questions.is_indexed(conn, conversation_id, key):
            return False
        questions.set_status(conn, conversation_id, key, status, note, actor)
        # The key only, never the note or the question: the audit log holds no patient text.
        audit.record(conn, actor, f"mark_question_{status}", conversation_id, detail=f"question={key[:12]}", ip=ip)
    return True


# ---- admin ---------------------------------------------------------------------------------


def erase_conversation(stores: Stores, conversation_id: str, actor: str, ip: str) -> erasure.Erased:
    return erasure.erase_conversation(stores, conversation_id, actor, ip)


def audit_page(stores: Stores, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """(entries, total) of the audit log, newest first."""
    return audit.entries(stores.portal, limit, offset), audit.count(stores.portal)


# ---- the call-back queue (portal/callbacks.py) ------------------------------------------


def callback_items(stores: Stores) -> list[callbacks.CallbackItem]:
    """Every request and ask for a person, with its contact history, after a refresh (so a
    person who just asked for a person is listed)."""
    refresh_index(stores)
    return callbacks.all_items(stores.tracker, stores.portal, stores.consultations)


def callbacks_page(stores: Stores, status: str, page_size: int, page: int):
    """(items of the page, how many match, how many are waiting in all)."""
    items = callback_items(stores)
    chosen = callbacks.select(items, status)
    start = (page - 1) * page_size
    return chosen[start : start + page_size], len(chosen), sum(1 for i in items if not i.contacted)


def waiting_callbacks(stores: Stores) -> int:
    """For the navigation: read from the index as it is (no refresh on every page)."""
    return callbacks.waiting_count(stores.tracker, stores.portal, stores.consultations)


def export_callbacks(stores: Stores, status: str, actor: str, ip: str) -> list[callbacks.CallbackItem]:
    chosen = callbacks.select(callback_items(stores), status)
    with stores.portal.begin() as conn:
        audit.record(conn, actor, "export_callbacks_csv", detail=f"rows={len(chosen)} status={status}", ip=ip)
    return chosen


def callbacks_for(stores: Stores, conversation_id: str) -> list[callbacks.CallbackItem]:
    """One conversation's requests with their contact history (the conversation page)."""
    return callbacks.for_conversation(stores.portal, stores.consultations, conversation_id)


# What each queue action records: the contact record's action and the audit action.
CONTACT_ACTIONS = {
    "contacted": ("contacted", "mark_contacted"),
    "undo": ("undone", "undo_contacted"),
    "note": ("note", "add_contact_note"),
}


def record_contact(
    stores: Stores, conversation_id: str, request_id: int, what: str, note: str, actor: str, ip: str
) -> bool:
    """Marks an item contacted, takes that back ("undo") or adds a note: a contact record and
    its audit entry in one transaction, and the consultation table's contacted column kept in
    step. False when there is no such item (nothing is written)."""
    event, action = CONTACT_ACTIONS[what]
    with stores.portal.begin() as conn:
        if not callbacks.item_exists(conn, stores.consultations, conversation_id, request_id):
            return False
        callbacks.record(conn, conversation_id, request_id, event, actor, note)
        # Ids only: the audit log never holds the note (it may quote the person).
        audit.record(conn, actor, action, conversation_id, detail=f"request_id={request_id}", ip=ip)
    if what != "note":
        callbacks.set_request_column(stores.consultations, conversation_id, request_id, what == "contacted")
    return True


def inbox_hidden_unfinished(stores: Stores, filters: inbox.Filters) -> int:
    """How many conversations with no outcome the inbox's default hides (after inbox_page
    refreshed the index)."""
    return inbox.hidden_unfinished(stores.portal, filters)


# ---- dashboard -------------------------------------------------------------------------


def dashboard_page(stores: Stores, weeks: int, until: str = "", now: float | None = None):
    """The dashboard's counts (portal/dashboard.py), after refreshing the index."""
    refresh_index(stores)
    return dashboard.build(stores.portal, weeks, time.time() if now is None else now, until)
