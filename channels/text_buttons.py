"""Buttons for channels that only carry text (SMS, WhatsApp) or whose users may type anyway
(Telegram): numbered options in the message, replies mapped back to the button's payload,
and long messages split at a platform's limit.

The assistant accepts a button payload only if it is exactly one the bot just offered
(actions/tracker_utils.py: button_value), so a reply is mapped to the offered payload
string itself, never rebuilt from the title.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple


class Button(NamedTuple):
    title: str
    payload: str


# --------------------------------------------------------------------------------------
# Rendering one bot turn
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnMessage:
    """One bot message with its buttons numbered. Numbers run on across the whole turn,
    so "1" always means one button even when a turn has two messages with buttons."""

    text: str
    options: tuple[tuple[int, Button], ...]


def buttons_of(message: dict[str, Any]) -> list[Button]:
    """The usable buttons of a Rasa bot message (a title and a string payload each)."""
    found = []
    for button in message.get("buttons") or []:
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and isinstance(payload, str) and title.strip():
            found.append(Button(title.strip(), payload))
    return found


def message_text(message: dict[str, Any]) -> str:
    """A bot message's text; an image or attachment URL becomes a line of text, because a
    text channel has nowhere else to put it. Numbers to call (the message's custom "call"
    entries, only ever from clinic.yml) follow on lines of their own."""
    parts = [message.get("text")] + [message.get(key) for key in ("image", "attachment")]
    text = "\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    calls = call_lines(message)
    return "\n\n".join(part for part in (text, calls) if part) if text else ""


def call_lines(message: dict[str, Any]) -> str:
    """ "Emergency services: 999" per number. Phones make a number tappable when it stands
    apart as digits, or in E.164 form ("+442079460000"), not inside punctuation; in the
    message's sentences the number is written as the clinic wrote it, so it comes again
    here in the `tel` form (tracker_utils.call). A call line never comes without text."""
    custom = message.get("custom")
    entries = custom.get("call") if isinstance(custom, dict) else None
    lines = []
    for entry in entries if isinstance(entries, list) else []:
        label, tel = (entry.get("label"), entry.get("tel")) if isinstance(entry, dict) else (None, None)
        if isinstance(label, str) and isinstance(tel, str) and re.fullmatch(r"\+?\d{2,15}", tel):
            lines.append(f"{label.strip()}: {tel}")
    return "\n".join(lines)


def number_turn(messages: Sequence[dict[str, Any]]) -> list[TurnMessage]:
    numbered, next_number = [], 1
    for message in messages:
        buttons = buttons_of(message)
        options = tuple(enumerate(buttons, start=next_number))
        next_number += len(buttons)
        text = message_text(message)
        if text or options:
            numbered.append(TurnMessage(text, options))
    return numbered


def turn_buttons(turn: Sequence[TurnMessage]) -> list[Button]:
    return [button for message in turn for _, button in message.options]


def numbered_options(options: Sequence[tuple[int, Button]]) -> str:
    return "\n".join(f"{number}. {button.title}" for number, button in options)


def with_numbered_options(message: TurnMessage) -> str:
    """ "Question?\n\n1. Yes\n2. No" """
    return "\n\n".join(part for part in (message.text, numbered_options(message.options)) if part)


def turn_as_text(turn: Sequence[TurnMessage]) -> str:
    """A whole turn as one text, messages as paragraphs. Separate SMS can arrive out of order,
    so one text per turn keeps a question after its introduction."""
    return "\n\n".join(with_numbered_options(message) for message in turn)


# --------------------------------------------------------------------------------------
# Mapping a reply to the offered button
# --------------------------------------------------------------------------------------

# Phones turn ' into ’ as people type, and people add a full stop; neither should matter.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'})
_EDGE = " \t\r\n.!?,;:\"'()"
_NUMBER = re.compile(r"#?(\d{1,3})\)?")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split()).strip(_EDGE)


def match_reply(text: str, buttons: Sequence[Button]) -> Button | None:
    """The button a typed reply means: its number ("2", "2.", "#2") or its title, ignoring
    case, spacing, curly quotes and end punctuation. None when it means none of them, so the
    text goes to the assistant's own language understanding as typed."""
    said = normalise(text)
    number = _NUMBER.fullmatch(said)
    if number:
        index = int(number.group(1)) - 1
        if 0 <= index < len(buttons):
            return buttons[index]
    for button in buttons:
        if normalise(button.title) == said:
            return button
    return None


@dataclass(frozen=True)
class Offer:
    """The buttons of the bot's latest turn for one sender. offer_id tells this offer's
    keyboard (Telegram) from an older one still on the screen."""

    offer_id: str
    buttons: tuple[Button, ...]

    def reply_to_message(self, text: str) -> str | None:
        button = match_reply(text, self.buttons)
        return button.payload if button else None

    def callback_data(self, number: int) -> str:
        return f"{self.offer_id}:{number}"

    def payload_for_callback(self, data: str) -> str | None:
        """The payload behind a keyboard tap, or None if the tap is from an older offer."""
        offer_id, _, number = data.partition(":")
        if offer_id != self.offer_id or not number.isdigit():
            return None
        index = int(number) - 1
        return self.buttons[index].payload if 0 <= index < len(self.buttons) else None


def resolve_text(offer: Offer | None, text: str) -> str:
    """What to pass to Rasa for a typed reply: the offered payload it means, else the text."""
    payload = offer.reply_to_message(text) if offer else None
    return payload if payload is not None else text


class OfferMemory:
    """Per sender, the buttons of the bot's latest turn.

    Kept in this process's memory: a restart forgets the offers (a reply of "1" is then
    read as typed text, and the assistant asks again), and several Rasa processes behind a
    load balancer would each see only their own senders' offers. Run one process for the
    messaging channels. Bounded: least recently used senders beyond max_senders, and
    offers older than ttl_seconds, are dropped."""

    def __init__(
        self, max_senders: int = 10_000, ttl_seconds: float = 24 * 3600, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._offers: OrderedDict[str, tuple[float, Offer]] = OrderedDict()
        self._max, self._ttl, self._clock = max_senders, ttl_seconds, clock

    def remember(self, sender_id: str, buttons: Sequence[Button]) -> Offer | None:
        """Replaces the sender's offer; a turn without buttons leaves none."""
        self._offers.pop(sender_id, None)
        if not buttons:
            return None
        offer = Offer(secrets.token_hex(4), tuple(buttons))
        self._offers[sender_id] = (self._clock(), offer)
        while len(self._offers) > self._max:
            self._offers.popitem(last=False)
        return offer

    def current(self, sender_id: str) -> Offer | None:
        entry = self._offers.get(sender_id)
        if entry is None:
            return None
        stored_at, offer = entry
        if self._clock() - stored_at > self._ttl:
            del self._offers[sender_id]
            return None
        self._offers.move_to_end(sender_id)
        return offer


# --------------------------------------------------------------------------------------
# Splitting at a platform's length limit
# --------------------------------------------------------------------------------------


# Twilio counts a message's length in UTF-16 code units (an emoji counts twice), and so do
# Telegram's limits; counting that way keeps every part under the limit for both.
def utf16_len(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _longest_prefix(text: str, limit: int) -> int:
    """The largest index i with utf16_len(text[:i]) <= limit."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


# Preferred places to cut, best first: between paragraphs, lines, sentences, words.
_CUTS = (re.compile(r"\n[ \t]*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s"), re.compile(r"\s"))


def _cut_position(text: str, end: int) -> int:
    # text starts with a non-space (split_message strips it), so any cut after 0 leaves
    # a non-empty part
    for pattern in _CUTS:
        cuts = [m.start() for m in pattern.finditer(text, 0, end + 1) if 0 < m.start() <= end]
        if cuts:
            return cuts[-1]
    return end  # one unbroken run longer than the limit: cut it hard


def split_message(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` (UTF-16 units), in order, cut at the best boundary that
    fits; joined with a space or newline they give back the text."""
    if limit < 16:
        raise ValueError("limit too small to split sensibly")
    parts, rest = [], text.strip()
    while rest:
        end = _longest_prefix(rest, limit)
        cut = end if end == len(rest) else _cut_position(rest, end)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts
