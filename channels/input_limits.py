"""The limits every public channel applies before a message reaches the assistant: body
size, message length (channels/guard.py), per-sender and per-IP rate limits
(channels/rate_limit.py). Settings come from the channel's entry in the credentials file,
each optional with a safe default; docs/security-input.md lists them.

    channels.rest_guarded.GuardedRestInput:
      max_message_chars: 1000
      sender_burst: 30           # messages a sender may send at once...
      sender_per_minute: 120     # ...and then on average
      ip_burst: 300              # REST only: platforms' webhooks share a few IPs
      ip_per_minute: 1200
      trusted_proxies: "127.0.0.1"   # or the environment variable RASA_TRUSTED_PROXIES;
                                     # "none": clients connect directly (security/proxies.py)
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from channels import guard
from channels.rate_limit import Decision, RateLimiter
from clinical.clinic import load_clinic_settings
from security import proxies

# Real message and webhook bodies are a few kilobytes (a 1,000-character answer is 4 KB of
# JSON at worst); anything far bigger is not a patient typing or a platform's webhook.
MAX_BODY_BYTES = 64 * 1024

# With the clinic's emergency number filled in: a refused message may have been urgent.
RATE_LIMIT_REPLY = load_clinic_settings().say("guard.rate_limited")
TRUSTED_PROXIES_ENV = "RASA_TRUSTED_PROXIES"


class LimitsConfigError(ValueError):
    pass


def _number(settings: dict[str, Any], key: str, default: float, kind: type) -> Any:
    value = settings.get(key)
    if value is None or value == "":
        return kind(default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise LimitsConfigError(f"'{key}' must be a number, got {value!r}") from None
    if number <= 0:
        raise LimitsConfigError(f"'{key}' must be greater than 0, got {value!r}")
    return number


def parse_proxies(value: None | str | Iterable[str]) -> frozenset[str]:
    """ "10.0.0.1, 10.0.0.2", a list or "none" -> the set of addresses (checked at start-up)."""
    try:
        return proxies.parse_proxies(value)
    except proxies.ProxySettingError as problem:
        raise LimitsConfigError(f"trusted_proxies: {problem}") from None


@dataclass(frozen=True)
class LimitSettings:
    max_message_chars: int = guard.DEFAULT_MAX_CHARS
    # A person types far slower; scripted clients (the tests, the benchmark) wait for each
    # reply and stay under these too. What they stop is a flood.
    sender_burst: int = 30
    sender_per_minute: float = 120
    # Many patients can share one address (a clinic's or a hospital's network).
    ip_burst: int = 300
    ip_per_minute: float = 1200
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LimitSettings:
        settings, d = credentials or {}, cls()
        return cls(
            max_message_chars=_number(settings, "max_message_chars", d.max_message_chars, int),
            sender_burst=_number(settings, "sender_burst", d.sender_burst, int),
            sender_per_minute=_number(settings, "sender_per_minute", d.sender_per_minute, float),
            ip_burst=_number(settings, "ip_burst", d.ip_burst, int),
            ip_per_minute=_number(settings, "ip_per_minute", d.ip_per_minute, float),
            trusted_proxies=parse_proxies(os.environ.get(TRUSTED_PROXIES_ENV) or settings.get("trusted_proxies")),
        )


@dataclass(frozen=True)
class Admission:
    """What to do with one message: pass `text` on, or send `reply` (if any) instead."""

    text: str | None = None
    reply: str | None = None
    reason: str = "ok"


class InputGate:
    """One channel's limits: its own buckets, so a flood on SMS does not lock out the widget."""

    def __init__(self, settings: LimitSettings | None = None) -> None:
        self.settings = settings or LimitSettings()
        self.senders = RateLimiter(self.settings.sender_burst, self.settings.sender_per_minute / 60)
        self.ips = RateLimiter(self.settings.ip_burst, self.settings.ip_per_minute / 60)

    def check_ip(self, ip: str) -> Decision:
        return self.ips.check(ip)

    def check_sender(self, sender_id: str) -> Decision:
        return self.senders.check(sender_id)

    def screen(self, text: str) -> guard.Screened:
        return guard.screen(text, self.settings.max_message_chars)

    def admit(self, sender_id: str, text: str | None, empty_reply: str | None = None) -> Admission:
        """For the messaging channels: the sender's rate limit, then the guard (text None:
        a button tap, rate limit only). A sender over the limit is told once, then the
        further messages are dropped quietly: each reply costs an SMS, and a flood should
        not turn into a flood of answers. empty_reply: the channel's own answer to a
        message without text (a photo, a voice note)."""
        decision = self.check_sender(sender_id)
        if not decision.allowed:
            return Admission(reply=RATE_LIMIT_REPLY if decision.first_refusal else None, reason="rate_limited")
        if text is None:
            return Admission(text=None)
        screened = self.screen(text)
        if screened.reason == "empty" and empty_reply and not text.strip():  # nothing at all was sent
            return Admission(reply=empty_reply, reason="empty")
        return Admission(text=screened.text, reply=screened.reply, reason=screened.reason)


def is_local(ip: str) -> bool:
    """The machine itself: a local proxy whose clients we cannot tell apart (no trusted
    proxy configured), or a local tool. Limiting it per IP would limit everybody at once."""
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The client's address: X-Forwarded-For only from a trusted proxy (security/proxies.py)."""
    return proxies.client_address(peer, forwarded_for, trusted_proxies)
