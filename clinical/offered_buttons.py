"""Which buttons the assistant last offered, read from a conversation's events.

One reading for both sides of Rasa: the action server (rasa-sdk's tracker hands events over
as dicts) checks that a tapped payload was really offered, and the Rasa server's fault
handling offers the same buttons again with its apology (it converts Rasa's event objects
with ``as_dict()``). The SMS and Telegram channels keep their own short-lived copy to map a
typed number to a button (channels/text_buttons.py) until the channels become stateless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def buttons_since_last_user_message(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The buttons of the bot messages after the person's latest message, in the order shown."""
    buttons: list[dict[str, Any]] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            buttons[:0] = list((event.get("data") or {}).get("buttons") or [])
    return buttons


def events_before_latest_user_message(events: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The events up to (not including) the person's latest message: what they were answering."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[:index]
    return events
