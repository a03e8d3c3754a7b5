"""A bounded memory of recently seen message ids (Twilio MessageSid, Telegram update_id).

Platforms deliver a webhook again when they think it failed (a timeout, a network error),
and a replayed request has a valid signature; processing it twice would answer the same
question twice. In this process's memory, like the button offers (see text_buttons.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RecentIds:
    def __init__(
        self, max_items: int = 50_000, ttl_seconds: float = 24 * 3600, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max, self._ttl, self._clock = max_items, ttl_seconds, clock

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen within the TTL (and remembers it), else False."""
        now = self._clock()
        self._drop_expired(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        """Lets a platform's retry through, for a message we failed to process."""
        self._seen.pop(key, None)

    def _drop_expired(self, now: float) -> None:
        # insertion order is time order, so expired keys are at the front
        while self._seen:
            key, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self._ttl:
                break
            del self._seen[key]
