"""Where consultation requests are kept for the clinic's staff.

A small SQL table (SQLite by default, PostgreSQL in production through
CONSULTATION_DB_URL). The conversation's own events in Rasa's tracker store hold the
same details; this table is the staff's call-back list.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import sqlalchemy as sa

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


def save_request(conversation_id: str, name: str, contact: str, contact_kind: str,
                 preferred_times: str, outcome: Any, reasons: Any, url: str = None) -> int:
    engine = engine_for(url or database_url())
    with engine.begin() as conn:
        result = conn.execute(consultation_requests.insert().values(
            conversation_id=conversation_id, created_at=datetime.now(timezone.utc), name=name,
            contact=contact, contact_kind=contact_kind, preferred_times=preferred_times,
            screening_outcome=outcome, screening_reasons=json.dumps(reasons or []), contacted=False,
        ))
        return int(result.inserted_primary_key[0])


def list_requests(url: str = None) -> List[Dict[str, Any]]:
    engine = engine_for(url or database_url())
    with engine.connect() as conn:
        rows = conn.execute(consultation_requests.select().order_by(consultation_requests.c.id))
        return [dict(r._mapping) for r in rows]
