"""Which buttons the assistant last offered, read from a conversation's events.

One reading for both sides of Rasa: the action server (rasa-sdk's tracker hands events over
as dicts) checks that a tapped payload was really offered, and the Rasa server's fault
handling offers the same buttons again with its apology (it converts Rasa's event objects
with ``as_dict()``). The SMS and Telegram channels keep their own short-lived copy to map a
typed number to a button (channels/text_buttons.py) until the channels become stateless.

It also names a bot message with buttons (message_id) and the questions a tap may answer
now (latest_question_ids): the REST channel sends the name with each message, the widget
sends it back with a tap, and the channel checks it against the stored conversation
(channels/taps.py). Both sides compute it from the message itself, because Rasa sends a
channel exactly the text and buttons it stores in the bot event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

MESSAGE_ID_DIGITS = 16  # 64 bits of SHA-256, in hex: ample to tell one conversation's questions apart
# In a message's `custom`: the id of the stored message whose buttons it offers again (the
# apology for a failed turn, serving/fault_handling.py), so a tap on it answers that question.
BUTTONS_OF = "buttons_of"


def bot_messages_since_last_user_message(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The bot events after the person's latest message, in the order shown: what the
    person sees now (its buttons are the only ones a reply may answer)."""
    shown: list[Mapping[str, Any]] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            shown.insert(0, event)
    return shown


def buttons_since_last_user_message(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The buttons of the bot messages after the person's latest message, in the order shown."""
    return [b for e in bot_messages_since_last_user_message(events) for b in (e.get("data") or {}).get("buttons") or []]


def events_before_latest_user_message(events: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The events up to (not including) the person's latest message: what they were answering."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[:index]
    return events


def message_id(text: str | None, buttons: Sequence[Any]) -> str:
    """A short id of one bot message with buttons, the same on every Rasa server (no memory
    of its own: servers behind a balancer share only the tracker store). Made from the words
    and each button's title and payload, so two questions with the same Yes/No buttons get
    different ids. The same question asked again word for word gets the same id: a tap
    on the earlier copy answers the same question, which is what the patient meant."""
    shown = [[b.get("title"), b.get("payload")] for b in buttons if isinstance(b, Mapping)]
    canonical = json.dumps([text or "", shown], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:MESSAGE_ID_DIGITS]


def latest_question_ids(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ids of the bot messages with buttons after the person's latest message, in the
    order shown: the only questions a tap may answer now (the same "just offered" that
    buttons_since_last_user_message reads for the actions)."""
    return [
        message_id(event.get("text"), buttons)
        for event in bot_messages_since_last_user_message(events)
        if (buttons := (event.get("data") or {}).get("buttons"))
    ]
