"""Rasa's SQL tracker store, made to ride out a database that is down or restarting.

What stock Rasa 3.6's SQLTrackerStore does (measured, docs/faults.md):
- at start-up with the database unreachable it logs "Could not create tables" once and
  starts anyway, without its tables;
- per operation it has no retry. The Agent wraps every tracker store in
  FailSafeTrackerStore, which on any error falls back to an in-memory store: a failed
  read gives the patient a brand-new conversation (the greeting again), and a failed
  write keeps that turn's events only in memory, so they never reach the database.

This subclass (endpoints*.yml: `tracker_store: {type: serving.tracker_store.ResilientSQLTrackerStore, ...}`):
- waits for the database at start-up, logging a WARNING per attempt, up to
  `startup_wait_seconds` (default 120), then stops the server with a clear error;
- checks pooled connections before use (SQLAlchemy pool_pre_ping), so a database restart
  between two messages costs nothing;
- retries each read and write with backoff for `retry_seconds` (default 20), logging a
  WARNING that names the fault (never the SQL parameters: they hold patient text);
- when a database stays down longer, raises TrackerStoreUnavailable, which
  serving/fault_handling.py (installed by serving/extensions.py, not by this class) turns
  into a short apology instead of the in-memory fallback.

Writes are idempotent: a write stores only the events beyond those already stored for
the conversation's session (Rasa's own count-based `_additional_events`), so a retry after
a commit whose acknowledgement was lost writes nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, is_postgresql_url, validate_port
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Defined with the fault handling that turns it into an apology; re-exported here.
from serving.fault_handling import TrackerStoreUnavailable  # noqa: F401

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_STARTUP_WAIT_SECONDS = 120.0
DEFAULT_RETRY_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 5  # a database host that drops packets fails this fast, not in minutes
FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS = 0.5, 5.0

# Errors that mean "the database is not reachable right now", not "the query is wrong".
TRANSIENT_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


def describe(error: BaseException) -> str:
    """The fault in a few words, without SQLAlchemy's statement and parameters (patient text)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:160]
    return f"{type(original).__name__}: {first_line}" if first_line else type(original).__name__


def backoff_delays(budget_seconds: float, clock: Callable[[], float] = time.monotonic):
    """Yields delays 0.5, 1, 2, 4, 5, 5, ... seconds until the budget would be exceeded."""
    deadline, delay = clock() + budget_seconds, FIRST_DELAY_SECONDS
    while clock() + delay <= deadline:
        yield delay
        delay = min(delay * 2, MAX_DELAY_SECONDS)


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain=None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str = None,
        password: str = None,
        event_broker=None,
        login_db: str | None = None,
        query: dict | None = None,
        startup_wait_seconds: float = DEFAULT_STARTUP_WAIT_SECONDS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        **kwargs: Any,
    ) -> None:
        self.retry_seconds = float(retry_seconds)
        url = self.get_db_url(dialect, host, validate_port(port), db, username, password, login_db, query)
        self._engine_kwargs = self._resilient_engine_kwargs(url)
        database_server = bool(sa.engine.make_url(url).host)  # else a local file (SQLite)
        if database_server:
            self._wait_for_database(url, float(startup_wait_seconds))
        super().__init__(domain, dialect, host, port, db, username, password, event_broker, login_db, query, **kwargs)
        # Rasa built its engine without connection checks; replace it with one that has them.
        self.engine.dispose()
        self.engine = sa.create_engine(self.engine.url, **self._engine_kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._schema_ready = False
        self._ensure_schema(required=not database_server)  # a file that can't be opened won't recover

    @staticmethod
    def _resilient_engine_kwargs(url) -> dict:
        kwargs = {**create_engine_kwargs(url), "pool_pre_ping": True}
        if is_postgresql_url(url):
            kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return kwargs

    @staticmethod
    def _where(url) -> str:
        url = sa.engine.make_url(url)
        return f"{url.host}:{url.port or ''}" if url.host else str(url.database)

    def _wait_for_database(self, url, budget_seconds: float) -> None:
        engine = sa.create_engine(url, **self._engine_kwargs)
        attempt, delays = 0, backoff_delays(budget_seconds)
        try:
            while True:
                attempt += 1
                try:
                    with engine.connect() as connection:
                        connection.execute(sa.text("SELECT 1"))
                    if attempt > 1:
                        logger.warning(
                            f"Tracker store database at {self._where(url)} reachable again "
                            f"after {attempt} attempts; starting."
                        )
                    return
                except TRANSIENT_ERRORS as error:
                    delay = next(delays, None)
                    if delay is None:
                        raise TrackerStoreUnavailable(
                            f"Tracker store database at {self._where(url)} still unreachable after {attempt} "
                            f"attempts ({describe(error)}; startup_wait_seconds={budget_seconds:.0f}); stopping. "
                            f"Check that the database is running and DB_HOST/DB_PORT are right."
                        ) from None
                    logger.warning(
                        f"Tracker store database at {self._where(url)} not reachable at start-up "
                        f"(attempt {attempt}: {describe(error)}); retrying in {delay:.1f}s, "
                        f"for up to {budget_seconds:.0f}s."
                    )
                    time.sleep(delay)  # start-up: nothing else to serve yet
        finally:
            engine.dispose()

    def _ensure_schema(self, required: bool = False) -> None:
        """Rasa creates the tables once and only logs when that fails; we retry until it works."""
        if not self._schema_ready:
            try:
                self.Base.metadata.create_all(self.engine)
                self._schema_ready = True
            except TRANSIENT_ERRORS as error:
                if required:
                    raise TrackerStoreUnavailable(
                        f"Tracker store database {self.engine.url.database} cannot be opened "
                        f"({describe(error)}): check its path in the endpoints file."
                    ) from None
                logger.warning(f"Tracker store tables not created yet ({describe(error)}); will retry.")

    async def _with_retries(self, operation: str, run: Callable[[], Awaitable[T]]) -> T:
        attempt, delays = 0, backoff_delays(self.retry_seconds)
        while True:
            attempt += 1
            try:
                self._ensure_schema()
                result = await run()
                if attempt > 1:
                    logger.warning(f"Tracker store {operation} succeeded on attempt {attempt}.")
                return result
            except TRANSIENT_ERRORS as error:
                delay = next(delays, None)
                if delay is None:
                    logger.error(
                        f"Tracker store {operation} failed for {self.retry_seconds:.0f}s "
                        f"({describe(error)}); giving up on this message."
                    )
                    raise TrackerStoreUnavailable(f"tracker store {operation}: {describe(error)}") from None
                logger.warning(
                    f"Tracker store database unreachable during {operation} (attempt {attempt}: "
                    f"{describe(error)}); retrying in {delay:.1f}s."
                )
                await asyncio.sleep(delay)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._with_retries("read", lambda: super(ResilientSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._with_retries(
            "read", lambda: super(ResilientSQLTrackerStore, self).retrieve_full_tracker(conversation_id)
        )

    async def keys(self):
        return await self._with_retries("keys", lambda: super(ResilientSQLTrackerStore, self).keys())

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)  # once, not per retry (a no-op without an event broker)
        await self._with_retries("write", lambda: self._store_new_events(tracker))

    async def _store_new_events(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore.save without the event streaming, so it can be retried."""
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):  # only what isn't stored yet
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
