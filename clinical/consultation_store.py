"""Where consultation requests are kept for the clinic's staff.

A small SQL table (SQLite by default, PostgreSQL in production through
CONSULTATION_DB_URL). The conversation's own events in Rasa's tracker store hold the
same details; this table is the staff's call-back list.

Part of the Rasa-free core: the action server writes rows (actions/consultation.py) and
the staff portal reads, marks and erases them (portal/storage.py, portal/erasure.py);
neither imports the other.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc

logger = logging.getLogger(__name__)

DEFAULT_URL = f"sqlite:///{Path(__file__).resolve().parent.parent / 'var' / 'consultations.db'}"

metadata = sa.MetaData()
consultation_requests = sa.Table(
    "consultation_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("contact", sa.String(320), nullable=False),
    sa.Column("contact_kind", sa.String(10), nullable=False),
    sa.Column("preferred_times", sa.String(500), nullable=False),
    sa.Column("screening_outcome", sa.String(40)),
    sa.Column("screening_reasons", sa.Text),
    sa.Column("contacted", sa.Boolean, nullable=False, default=False),
    # When the person agreed to be contacted (their "yes"), and the version of the question
    # they agreed to (clinical/consent.py). Empty on rows stored before these columns existed.
    sa.Column("consent_at", sa.DateTime(timezone=True)),
    sa.Column("consent_wording", sa.String(40)),
    # Why the request was made (REQUEST_REASONS). Rows stored before this column existed
    # were all made after a screening and read as "screening".
    sa.Column("request_reason", sa.String(20), nullable=False, default="screening", server_default="screening"),
)
# "screening": the usual request at the end of a screening; "asked_for_person": the person
# asked to talk to someone at the clinic.
REQUEST_REASONS = ("screening", "asked_for_person")
# Columns added after the first release: (name, SQL type) for ALTER TABLE on old tables.
ADDED_COLUMNS = (
    ("consent_at", {"sqlite": "TIMESTAMP", "postgresql": "TIMESTAMP WITH TIME ZONE"}),
    ("consent_wording", {"sqlite": "VARCHAR(40)", "postgresql": "VARCHAR(40)"}),
    (
        "request_reason",
        {
            "sqlite": "VARCHAR(20) NOT NULL DEFAULT 'screening'",
            "postgresql": "VARCHAR(20) NOT NULL DEFAULT 'screening'",
        },
    ),
)


def database_url() -> str:
    return os.environ.get("CONSULTATION_DB_URL", DEFAULT_URL)


@lru_cache(maxsize=4)
def engine_for(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error must not copy names and phone numbers into the logs.
    engine = sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    metadata.create_all(engine)
    add_missing_columns(engine)
    return engine


def add_missing_columns(engine: sa.engine.Engine) -> None:
    """create_all() does not change an existing table: add the newer columns to old ones.
    Does nothing when the table does not exist (yet)."""
    inspector = sa.inspect(engine)
    if not inspector.has_table(consultation_requests.name):
        return
    existing = {c["name"] for c in inspector.get_columns(consultation_requests.name)}
    missing = [(name, types) for name, types in ADDED_COLUMNS if name not in existing]
    if not missing:
        return
    with engine.begin() as conn:
        for name, types in missing:
            sql_type = types.get(engine.dialect.name, types["sqlite"])
            conn.execute(sa.text(f"ALTER TABLE {consultation_requests.name} ADD COLUMN {name} {sql_type}"))


# A database restart takes a few seconds; the whole action must still answer well within
# the Rasa server's action timeout (12 s, serving/fault_handling.py).
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0, 3.0)
TRANSIENT_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
# The same request again within this time is the same request: sent again by the patient
# after an apology (Rasa gave up on a slow action that did store it), or retried here
# after a commit whose acknowledgement was lost.
SAME_REQUEST_WINDOW = timedelta(minutes=10)


def save_request(
    conversation_id: str,
    name: str,
    contact: str,
    contact_kind: str,
    preferred_times: str,
    outcome: Any,
    reasons: Any,
    url: str = None,
    consent_at: float | None = None,
    consent_wording: str | None = None,
    request_reason: str = "screening",
) -> int:
    """Stores the request once: retries while the database is unreachable, and returns the
    stored one when an identical request of this conversation is already there.

    consent_at: Unix time of the person's "yes" to being contacted (default: now, as the
    request is submitted straight after it).
    request_reason: one of REQUEST_REASONS; anything else raises ValueError."""
    if request_reason not in REQUEST_REASONS:
        raise ValueError(f"request_reason must be one of {', '.join(REQUEST_REASONS)}, got {request_reason!r}")
    row = dict(
        conversation_id=conversation_id,
        name=name,
        contact=contact,
        contact_kind=contact_kind,
        preferred_times=preferred_times,
        screening_outcome=outcome,
        screening_reasons=json.dumps(reasons or []),
        consent_wording=consent_wording,
        request_reason=request_reason,
    )
    now = datetime.now(timezone.utc)
    # Not part of the "same request" match: without a recorded time it is the time of saving.
    consent_time = datetime.fromtimestamp(consent_at, timezone.utc) if consent_at else now
    for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None), start=1):
        try:
            engine = engine_for(url or database_url())
            with engine.begin() as conn:
                existing = _find(conn, row, since=now - SAME_REQUEST_WINDOW)
                if existing is not None:
                    return existing
                result = conn.execute(
                    consultation_requests.insert().values(
                        **row, created_at=now, contacted=False, consent_at=consent_time
                    )
                )
                return int(result.inserted_primary_key[0])
        except TRANSIENT_ERRORS as error:
            if delay is None:
                raise
            logger.warning(
                f"Consultation database unreachable (attempt {attempt}: "
                f"{type(getattr(error, 'orig', error)).__name__}); retrying in {delay}s"
            )
            # rasa-sdk runs synchronous actions on its event loop, so other requests wait
            # these few seconds too; acceptable for a database restart, which is rare.
            time.sleep(delay)
    raise AssertionError("unreachable")


def _find(conn, row: dict[str, Any], since: datetime):
    table = consultation_requests
    query = sa.select(table.c.id).where(
        table.c.created_at >= since, *(table.c[key] == value for key, value in row.items())
    )
    found = conn.execute(query.order_by(table.c.id.desc()).limit(1)).first()
    return int(found[0]) if found else None


def list_requests(url: str = None) -> list[dict[str, Any]]:
    engine = engine_for(url or database_url())
    with engine.connect() as conn:
        rows = conn.execute(consultation_requests.select().order_by(consultation_requests.c.id))
        return [dict(r._mapping) for r in rows]
