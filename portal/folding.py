"""Folding a list-valued slot into what a conversation ever had.

The assistant writes such a slot (``safety_flags``, ``unanswered_questions``) whole each time
an item is added, and a start-over clears it: the portal keeps every item it ever saw, once,
in the order first seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Keyed(Protocol):
    @property
    def key(self) -> object: ...


K = TypeVar("K", bound=Keyed)


def add_unseen(kept: list[K], items: Iterable[K]) -> None:
    """Appends to ``kept`` the items whose key it does not hold yet."""
    seen = {item.key for item in kept}
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            kept.append(item)
