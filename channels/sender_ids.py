"""The conversation ids each public channel may name, so that no channel reaches another's.

Every channel shares one tracker store keyed by the sender id alone (Rasa does not key it
by channel). A channel that let its client choose any id could therefore read and change
any conversation: before issue 26, the public REST channel accepted "+447700900123", and
then "I want to change an answer" showed that SMS patient's health answers to whoever
typed their number. So each channel's ids have a form no other channel can produce:

- REST (the website widget): "web-" and 24 to 32 lowercase hex digits. The widget makes
  96 random bits (24 digits, widget/static/widget.js); up to 32 leaves room for 128 bits
  later. Unguessable, so one visitor cannot name another visitor's conversation either.
- Twilio: the "From" Twilio signed, "+<digits>" (SMS) or "whatsapp:+<digits>".
- Telegram: the private chat's id, a decimal number Telegram sent with its secret header.

None of these can look like another: a "web-" id has letters and a dash, a phone number
starts with "+" or "whatsapp:", a chat id is digits only.

Pure (no Rasa): the REST channel, scripts/chat.py, the tests and the benchmarks use it.
"""

from __future__ import annotations

import re
import secrets

WEB_PREFIX = "web-"
WEB_SENDER = re.compile(r"web-[0-9a-f]{24,32}")
WEB_SENDER_BYTES = 12  # 96 random bits, as the widget makes them


def is_web_sender(sender: object) -> bool:
    return isinstance(sender, str) and WEB_SENDER.fullmatch(sender) is not None


def new_web_sender() -> str:
    """A conversation id of the widget's form, for clients other than the widget (the
    terminal chat, the tests and benchmarks), made the same way: random, never chosen."""
    return WEB_PREFIX + secrets.token_hex(WEB_SENDER_BYTES)
