"""Database engines and the portal's own schema migrations.

Migrations are an ordered list of SQL statements written for both SQLite and PostgreSQL
(``{id}`` becomes the dialect's auto-increment key). Each version is applied once, in one
transaction, and recorded in ``portal_schema_version``; never edit a released migration,
append a new one. Times are stored as Unix seconds (floats), like Rasa's ``events`` table,
so comparisons work the same on both databases.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "staff, sessions, login throttling, reviews, notes, tags, audit, summaries",
        [
            """CREATE TABLE portal_staff (
            id {id},
            username VARCHAR(80) NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role VARCHAR(20) NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE portal_sessions (
            token_hash VARCHAR(64) PRIMARY KEY,
            staff_id INTEGER NOT NULL REFERENCES portal_staff(id),
            csrf_token VARCHAR(64) NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            last_seen_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE portal_login_failures (
            throttle_key VARCHAR(200) PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at DOUBLE PRECISION NOT NULL,
            blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0)""",
            """CREATE TABLE portal_reviews (
            conversation_id VARCHAR(255) PRIMARY KEY,
            reviewed INTEGER NOT NULL DEFAULT 0,
            reviewed_by VARCHAR(80),
            reviewed_at DOUBLE PRECISION)""",
            """CREATE TABLE portal_notes (
            id {id},
            conversation_id VARCHAR(255) NOT NULL,
            author VARCHAR(80) NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            body TEXT NOT NULL)""",
            "CREATE INDEX ix_portal_notes_conversation ON portal_notes (conversation_id)",
            """CREATE TABLE portal_tags (
            conversation_id VARCHAR(255) NOT NULL,
            tag VARCHAR(40) NOT NULL,
            added_by VARCHAR(80) NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (conversation_id, tag))""",
            "CREATE INDEX ix_portal_tags_tag ON portal_tags (tag)",
            """CREATE TABLE portal_audit (
            id {id},
            at DOUBLE PRECISION NOT NULL,
            actor VARCHAR(80) NOT NULL,
            action VARCHAR(40) NOT NULL,
            conversation_id VARCHAR(255),
            detail TEXT NOT NULL DEFAULT '',
            ip VARCHAR(64) NOT NULL DEFAULT '')""",
            """CREATE TABLE portal_summaries (
            conversation_id VARCHAR(255) PRIMARY KEY,
            started_at DOUBLE PRECISION NOT NULL,
            last_event_at DOUBLE PRECISION NOT NULL,
            channel VARCHAR(64),
            outcome VARCHAR(40),
            reasons TEXT NOT NULL DEFAULT '[]',
            red_flags TEXT NOT NULL DEFAULT '[]',
            consultation_requested INTEGER NOT NULL DEFAULT 0,
            user_messages INTEGER NOT NULL DEFAULT 0,
            search_text TEXT NOT NULL DEFAULT '')""",
            "CREATE INDEX ix_portal_summaries_started ON portal_summaries (started_at)",
            "CREATE INDEX ix_portal_summaries_outcome ON portal_summaries (outcome)",
            """CREATE TABLE portal_summariser_state (
            id INTEGER PRIMARY KEY,
            last_event_id BIGINT NOT NULL)""",
            "INSERT INTO portal_summariser_state (id, last_event_id) VALUES (1, 0)",
        ],
    ),
    # Erasure replaces a conversation's id in its audit entries (portal/erasure.py).
    (
        2,
        "index the audit log by conversation",
        [
            "CREATE INDEX ix_portal_audit_conversation ON portal_audit (conversation_id)",
        ],
    ),
    # The assistant's safety net (portal/safety.py). Rows indexed before this version never
    # looked at those slots, so the index is emptied and rebuilt from the tracker store on
    # the next refresh (start-up does one), exactly as `rebuild-index` would.
    (
        3,
        "distress and safety-net flags in the inbox index",
        [
            "ALTER TABLE portal_summaries ADD COLUMN distress INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE portal_summaries ADD COLUMN safety_net_flags TEXT NOT NULL DEFAULT '[]'",
            "CREATE INDEX ix_portal_summaries_distress ON portal_summaries (distress)",
            "DELETE FROM portal_summaries",
            "UPDATE portal_summariser_state SET last_event_id = 0 WHERE id = 1",
        ],
    ),
    # Questions the assistant could not answer and asking for a person (portal/questions.py).
    # portal_questions is part of the index (rebuilt with it); staff's status and note are in
    # portal_question_status, keyed by the question itself, so a rebuild keeps them. As in
    # version 3 the index is emptied and the next refresh builds it again.
    (
        4,
        "unanswered questions and asking for a person",
        [
            "ALTER TABLE portal_summaries ADD COLUMN person_requested INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX ix_portal_summaries_person ON portal_summaries (person_requested)",
            """CREATE TABLE portal_questions (
            conversation_id VARCHAR(255) NOT NULL,
            question_key VARCHAR(64) NOT NULL,
            asked_at DOUBLE PRECISION NOT NULL,
            context VARCHAR(80),
            words TEXT NOT NULL,
            PRIMARY KEY (conversation_id, question_key))""",
            "CREATE INDEX ix_portal_questions_asked ON portal_questions (asked_at)",
            """CREATE TABLE portal_question_status (
            conversation_id VARCHAR(255) NOT NULL,
            question_key VARCHAR(64) NOT NULL,
            status VARCHAR(10) NOT NULL,
            note TEXT,
            updated_by VARCHAR(80) NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (conversation_id, question_key))""",
            "DELETE FROM portal_summaries",
            "UPDATE portal_summariser_state SET last_event_id = 0 WHERE id = 1",
        ],
    ),
    # The version of the screening rules that decided the outcome (the assistant's
    # ``ruleset_version`` slot). As in version 3 the index is emptied and the next refresh
    # builds it again, so conversations indexed before this version get it too.
    (
        5,
        "the rule set version of the outcome",
        [
            "ALTER TABLE portal_summaries ADD COLUMN ruleset_version VARCHAR(200)",
            "DELETE FROM portal_summaries",
            "UPDATE portal_summariser_state SET last_event_id = 0 WHERE id = 1",
        ],
    ),
    # The call-back queue's contact records (portal/callbacks.py): one row per staff action
    # (contacted, undone, note) on a consultation request or, with request_id 0, on a
    # conversation whose person asked for a person without leaving details. Rows are only
    # ever added, so an undo keeps the history; erasure and purge delete them.
    (
        6,
        "contact records of the call-back queue",
        [
            """CREATE TABLE portal_contact_events (
            id {id},
            conversation_id VARCHAR(255) NOT NULL,
            request_id INTEGER NOT NULL,
            action VARCHAR(20) NOT NULL,
            actor VARCHAR(80) NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            note TEXT)""",
            "CREATE INDEX ix_portal_contact_events_conversation ON portal_contact_events (conversation_id)",
        ],
    ),
    # The dashboard (portal/dashboard.py): whether consent was given and where an unfinished
    # screening stopped. As in version 3 the index is emptied and the next
    # refresh (start-up does one) builds it again from the tracker store, so conversations
    # indexed before this version count on the dashboard too.
    (
        7,
        "consent and drop-off for the dashboard",
        [
            "ALTER TABLE portal_summaries ADD COLUMN consented INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE portal_summaries ADD COLUMN dropped_at VARCHAR(80)",
            "CREATE INDEX ix_portal_summaries_dropped ON portal_summaries (dropped_at)",
            "DELETE FROM portal_summaries",
            "UPDATE portal_summariser_state SET last_event_id = 0 WHERE id = 1",
        ],
    ),
]

ID_COLUMN = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}


@lru_cache(maxsize=16)
def engine_for(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error must not copy conversation ids (phone numbers), notes
    # or search text into the logs.
    return sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


def schema_version(engine: sa.engine.Engine) -> int:
    if not sa.inspect(engine).has_table("portal_schema_version"):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT MAX(version) FROM portal_schema_version")).scalar() or 0)


def migrate(engine: sa.engine.Engine) -> list[int]:
    """Applies the migrations not yet applied; returns the versions applied now."""
    dialect = engine.dialect.name
    if dialect not in ID_COLUMN:
        raise RuntimeError(f"the portal supports SQLite and PostgreSQL, not {dialect}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS portal_schema_version ("
                "version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
            )
        )
    applied = []
    current = schema_version(engine)
    for version, _description, statements in MIGRATIONS:
        if version <= current:
            continue
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement.replace("{id}", ID_COLUMN[dialect])))
            conn.execute(
                sa.text("INSERT INTO portal_schema_version (version, applied_at) VALUES (:v, :t)"),
                {"v": version, "t": time.time()},
            )
        applied.append(version)
    return applied
