"""A throw-away database on the shared PostgreSQL server (127.0.0.1:5432) per test, so runs
never collide; the server itself is never stopped or restarted (other work uses it)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

PG = dict(
    host=os.environ.get("TEST_PG_HOST", "127.0.0.1"),
    port=int(os.environ.get("TEST_PG_PORT", "5432")),
    user=os.environ.get("TEST_PG_USER", "postgres"),
)


def unavailable_reason() -> str:
    """Empty when PostgreSQL answers, else why not."""
    try:
        psycopg2.connect(connect_timeout=3, dbname="postgres", **PG).close()
        return ""
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL at {PG['host']}:{PG['port']} unavailable: {error}"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_events(db_name: str, sender: str) -> list[dict]:
    """The conversation's events as stored, in order, read directly (not through Rasa)."""
    conn = psycopg2.connect(dbname=db_name, **PG)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [json.loads(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()
