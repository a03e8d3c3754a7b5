"""Per-key token buckets (a key is a sender id or a client IP), in this process's memory.

A bucket holds up to `burst` tokens and refills at `per_second`; each message takes one.
A person answering questions never comes near the limits; a script hammering the webhook
does, and gets a friendly 429 instead of filling the tracker store.

Memory is bounded: at most `max_keys` buckets, least recently used dropped first (a
dropped bucket comes back full, which only ever errs towards letting a message through).
Each Rasa process has its own buckets: behind a balancer with N servers a sender can get
up to N times the limit; nginx's limit_req (deploy/nginx.conf) is the cluster-wide one.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until one token is back (for Retry-After)
    first_refusal: bool = False  # the first refusal since the key was last allowed


class RateLimiter:
    def __init__(
        self, burst: int, per_second: float, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a rate limit needs burst >= 1 and per_second > 0")
        self.burst, self.per_second = burst, per_second
        self._max, self._clock = max_keys, clock
        # key -> (tokens, time of last update, refused since last allowed)
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def check(self, key: str) -> Decision:
        """Takes a token for `key` if there is one."""
        now = self._clock()
        tokens, updated, refused = self._buckets.pop(key, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + (now - updated) * self.per_second)
        if tokens >= 1:
            decision = Decision(True)
            tokens, refused = tokens - 1, False
        else:
            decision = Decision(False, max(1, math.ceil((1 - tokens) / self.per_second)), first_refusal=not refused)
            refused = True
        self._buckets[key] = (tokens, now, refused)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)
