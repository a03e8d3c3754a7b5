"""The REST channel's request body, checked within bounds before anything else reads it.

What the widget sends is {"sender": "web-<hex>", "message": "<text>"}, a few hundred bytes,
two levels deep at most with metadata. Each bound below is far above that and far below
what hurt the server before issue 26 (measured in docs/security-input.md):

- nesting depth, counted on the raw bytes before json.loads: 1,000 "[" then 1,000 "]"
  (2 KB) made json.loads raise RecursionError, a 500 with a traceback; metadata nested
  600 deep parsed, then broke Rasa's own copying of the event further on, storing a user
  event and an empty form run and writing about 2,000 log lines;
- metadata size: 60 KB of metadata was stored twice over (the user event, and the
  session_started_metadata slot at a session start), 3 MB for 25 turns;
- metadata keys: only the keys this project reads reach Rasa, so a client cannot store
  whatever it likes in a patient's conversation; the rest are dropped.

Every problem raises BadBody with a message for the client (the channel answers 400).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from channels.sender_ids import is_web_sender

MAX_JSON_DEPTH = 8  # the body's object is 1, metadata 2; nothing legitimate comes near 8
MAX_METADATA_BYTES = 1024  # as compact JSON; an id or two, never a document
# The user-message metadata keys something in this project reads; all others are dropped
# before Rasa sees the message. A key added here must be read somewhere, and its value
# checked where it is read:
# - "reply_to": the id of the message whose button was tapped (the widget sends it; read
#   and checked by channels/taps.py, which refuses a tap on a question that has moved on).
METADATA_KEYS: frozenset[str] = frozenset({"reply_to"})

# One JSON string (to its closing quote, or to the end of an unterminated one: always a
# match, so the scan never backtracks and stays linear) or one bracket.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.?)*(?:"|\Z)|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


class BadBody(ValueError):
    """What is wrong with a request body, in words the client can act on."""


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    metadata: dict[str, Any] | None  # only METADATA_KEYS; None when none was kept


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether any array or object in `body` opens more than `limit` levels deep, without
    parsing it (brackets inside strings do not count)."""
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(body):
        first = token.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif first != ord('"') and depth:  # a stray closing bracket earns no credit for later
            depth -= 1
    return False


def metadata_size(metadata: dict[str, Any]) -> int:
    """Bytes of compact JSON (ASCII-escaped, so a lone surrogate cannot make it fail)."""
    return len(json.dumps(metadata, separators=(",", ":")))


def kept_metadata(metadata: dict[str, Any], allowed: frozenset[str] = METADATA_KEYS) -> dict[str, Any] | None:
    kept = {key: value for key, value in metadata.items() if key in allowed}
    return kept or None


def read_message(body: bytes, allowed_metadata: frozenset[str] = METADATA_KEYS) -> RestMessage:
    """The message in a body of at most the channel's size limit, or BadBody."""
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        raise BadBody(f"The JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels).")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadBody("The body must be UTF-8 encoded JSON.") from None
    except (ValueError, RecursionError):  # RecursionError: cannot happen after the depth check
        raise BadBody('The body must be JSON, like {"sender": "...", "message": "..."}.') from None
    if not isinstance(data, dict):
        raise BadBody('The body must be a JSON object with "sender" and "message".')
    sender, text, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if not is_web_sender(sender):
        raise BadBody('"sender" must be the chat\'s own conversation id: "web-" and 24 to 32 lowercase hex digits.')
    if not isinstance(text, str):
        raise BadBody('"message" must be a string.')
    if metadata is None:
        return RestMessage(sender, text, None)
    if not isinstance(metadata, dict):
        raise BadBody('"metadata" must be a JSON object when given.')
    if metadata_size(metadata) > MAX_METADATA_BYTES:
        raise BadBody(f'"metadata" is too large (the limit is {MAX_METADATA_BYTES:,} bytes).')
    return RestMessage(sender, text, kept_metadata(metadata, allowed_metadata))
