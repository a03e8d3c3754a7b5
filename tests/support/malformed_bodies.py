"""Malformed REST request bodies for the fuzz runs (issue 26): valid widget bodies cut,
flipped, spliced with deep nesting, broken escapes and bad UTF-8; reproducible from a seed.

tests/security/test_request_body.py runs thousands through the parser in process;
tests/security/test_conversation_boundaries_e2e.py sends a couple of hundred to a server."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from channels.request_body import BadBody, read_message

SENDER = "web-" + "ab" * 12
VALID = [
    json.dumps({"sender": SENDER, "message": "hi"}).encode(),
    json.dumps({"sender": SENDER, "message": "hi", "metadata": {"page": "/x"}}).encode(),
    json.dumps({"sender": "web-" + "0f" * 16, "message": "é [] {}"}).encode(),
]
# Pieces spliced in: deep nesting, a lone quote, broken escapes, a huge number, bad UTF-8.
SPLICES = [b"[" * 900, b"{" * 300, b'"', b"\\u", b"\\ud800", b"1e999", b"\xff", b"\xc3\xa9"]
NOISE = b'[]{}":,\\\x00 ae1'


def mutations(seed: int, count: int) -> Iterator[bytes]:
    """`count` bodies made from VALID by one to six random edits each. Some stay valid."""
    rng = random.Random(seed)
    for _ in range(count):
        raw = bytearray(rng.choice(VALID))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(raw) + 1)
            kind = rng.randrange(4)
            if kind == 0:
                del raw[at : at + rng.randint(1, 8)]
            elif kind == 1:
                raw[at:at] = bytes(rng.choice(NOISE) for _ in range(rng.randint(1, 40)))
            elif kind == 2:
                raw[at:at] = rng.choice(SPLICES)
            elif raw:
                raw[at % len(raw)] ^= 1 << rng.randrange(8)
        yield bytes(raw)


def foreign_senders() -> list[bytes]:
    """Well-formed bodies naming a conversation that is not the widget's."""
    senders = ["+447700900123", "whatsapp:+447700900123", "900000001", "default", "web-1", SENDER.upper()]
    return [json.dumps({"sender": s, "message": "I want to change an answer"}).encode() for s in senders]


def oversized_metadata() -> list[bytes]:
    """The issue's metadata: 60 KB flat, and hundreds of levels deep."""
    deep: object = []
    for _ in range(600):
        deep = [deep]
    return [
        json.dumps({"sender": SENDER, "message": "hi", "metadata": {"k": "x" * 60_000}}).encode(),
        json.dumps({"sender": SENDER, "message": "hi", "metadata": {"a": deep}}).encode(),
        b"[" * 1000 + b"]" * 1000,
    ]


def refused(raw: bytes) -> bool:
    try:
        read_message(raw)
    except BadBody:
        return True
    return False


def malformed(seed: int, count: int) -> list[bytes]:
    """`count` bodies the REST channel must refuse: the fixed cases, then mutations that the
    parser refuses (the ones that happen to stay valid are left out)."""
    bodies = foreign_senders() + oversized_metadata()
    bodies += [raw for raw in mutations(seed, count * 3) if refused(raw)]
    return bodies[:count]
