"""Where consultation requests are kept for the clinic's staff.

A small SQL table (SQLite by default, PostgreSQL in production through
CONSULTATION_DB_URL). The conversation's own events in Rasa's tracker store hold the
same details; this table is the staff's call-back list.
"""
from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

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
)


def database_url() -> str:
    return os.environ.get("CONSULTATION_DB_URL", DEFAULT_URL)


@lru_cache(maxsize=4)
def engine_for(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


# A database restart takes a few seconds; the whole action must still answer well within
# the Rasa server's action timeout (12 s, serving/fault_handling.py).
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0, 3.0)
TRANSIENT_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
# The same request again within this time is the same request: sent again by the patient
# after an apology (Rasa gave up on a slow action that did store it), or retried here
# after a commit whose acknowledgement was lost.
SAME_REQUEST_WINDOW = timedelta(minutes=10)


def save_request(conversation_id: str, name: str, contact: str, contact_kind: str,
                 preferred_times: str, outcome: Any, reasons: Any, url: str = None) -> int:
    """Stores the request once: retries while the database is unreachable, and returns the
    stored one when an identical request of this conversation is already there."""
    row = dict(conversation_id=conversation_id, name=name, contact=contact, contact_kind=contact_kind,
               preferred_times=preferred_times, screening_outcome=outcome,
               screening_reasons=json.dumps(reasons or []))
    now = datetime.now(timezone.utc)
    for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None), start=1):
        try:
            engine = engine_for(url or database_url())
            with engine.begin() as conn:
                existing = _find(conn, row, since=now - SAME_REQUEST_WINDOW)
                if existing is not None:
                    return existing
                result = conn.execute(consultation_requests.insert().values(
                    **row, created_at=now, contacted=False))
                return int(result.inserted_primary_key[0])
        except TRANSIENT_ERRORS as error:
            if delay is None:
                raise
            logger.warning(f"Consultation database unreachable (attempt {attempt}: "
                           f"{type(getattr(error, 'orig', error)).__name__}); retrying in {delay}s")
            # rasa-sdk runs synchronous actions on its event loop, so other requests wait
            # these few seconds too; acceptable for a database restart, which is rare.
            time.sleep(delay)
    raise AssertionError("unreachable")


def _find(conn, row: Dict[str, Any], since: datetime):
    table = consultation_requests
    query = sa.select(table.c.id).where(table.c.created_at >= since,
                                        *(table.c[key] == value for key, value in row.items()))
    found = conn.execute(query.order_by(table.c.id.desc()).limit(1)).first()
    return int(found[0]) if found else None


def list_requests(url: str = None) -> List[Dict[str, Any]]:
    engine = engine_for(url or database_url())
    with engine.connect() as conn:
        rows = conn.execute(consultation_requests.select().order_by(consultation_requests.c.id))
        return [dict(r._mapping) for r in rows]
