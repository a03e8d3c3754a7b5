"""A Redis lock store whose ticket updates are atomic across Rasa servers.

Rasa Open Source's RedisLockStore updates a conversation's ticket lock by read-modify-
write: get the lock, add or remove a ticket, save it back (rasa/core/lock_store.py,
issue_ticket / finish_serving / update_lock). Two servers doing that for the same
conversation at the same moment can both read the same lock and one save overwrites the
other, so both believe they hold the lock and process the conversation at once
(RasaHQ/rasa #9213). This subclass wraps each read-modify-write in a short Redis mutex
(SET NX with expiry, released with a token check), so updates are serialised.

endpoints.production.yml:  lock_store: {type: serving.lock_store.AtomicRedisLockStore, ...}
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

MUTEX_TIMEOUT_SECONDS = 5.0  # a mutex left by a crashed server expires after this
MUTEX_WAIT_SECONDS = 10.0  # how long a server waits for another's update to finish


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # loaded by module path from endpoints.yml
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        super().__init__(**kwargs)

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        mutex = self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_TIMEOUT_SECONDS,
            blocking_timeout=MUTEX_WAIT_SECONDS,
        )
        if not mutex.acquire():
            raise TimeoutError(f"lock store busy for {MUTEX_WAIT_SECONDS}s")
        try:
            yield
        finally:
            try:
                mutex.release()
            except Exception:  # expired meanwhile: another server may hold it now
                logger.warning("Lock-store mutex expired before release")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # finish_serving and the "anyone waiting?" check must be one step, or a ticket
        # issued in between would have its lock deleted under it.
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock:
                lock.remove_ticket_for(ticket_number)
                if lock.is_someone_waiting():
                    self.save_lock(lock)
                else:
                    self.delete_lock(conversation_id)
