"""channels/rate_limit.py and channels/input_limits.py: token buckets, settings, client IPs."""

import pytest

from channels.input_limits import (
    RATE_LIMIT_REPLY,
    InputGate,
    LimitsConfigError,
    LimitSettings,
    client_ip,
    parse_proxies,
)
from channels.rate_limit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_burst_then_refused_then_refilled():
    clock = Clock()
    limiter = RateLimiter(burst=3, per_second=0.5, clock=clock)
    assert [limiter.check("a").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.check("a")
    assert not refused.allowed and refused.retry_after == 2 and refused.first_refusal
    assert not limiter.check("a").first_refusal  # told once, then quietly
    clock.now += 2
    assert limiter.check("a").allowed
    assert not limiter.check("a").allowed
    assert limiter.check("a").first_refusal is False


def test_first_refusal_again_after_an_allowed_message():
    clock = Clock()
    limiter = RateLimiter(burst=1, per_second=1, clock=clock)
    limiter.check("a")
    assert limiter.check("a").first_refusal
    clock.now += 1
    assert limiter.check("a").allowed
    assert limiter.check("a").first_refusal


def test_keys_are_independent():
    limiter = RateLimiter(burst=1, per_second=0.01, clock=Clock())
    assert limiter.check("a").allowed and limiter.check("b").allowed
    assert not limiter.check("a").allowed


def test_bucket_never_holds_more_than_the_burst():
    clock = Clock()
    limiter = RateLimiter(burst=2, per_second=1, clock=clock)
    limiter.check("a")
    clock.now += 3600
    assert [limiter.check("a").allowed for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_least_recently_used_first():
    limiter = RateLimiter(burst=1, per_second=0.001, max_keys=100, clock=Clock())
    for n in range(1000):
        limiter.check(f"sender-{n}")
    assert len(limiter) == 100
    assert not limiter.check("sender-999").allowed  # recent: still remembered
    assert limiter.check("sender-0").allowed  # forgotten: comes back full


@pytest.mark.parametrize("burst, rate", [(0, 1), (1, 0), (-1, 1)])
def test_nonsense_limits_are_refused(burst, rate):
    with pytest.raises(ValueError):
        RateLimiter(burst, rate)


def test_settings_defaults_and_overrides(monkeypatch):
    monkeypatch.delenv("RASA_TRUSTED_PROXIES", raising=False)
    assert LimitSettings.from_credentials(None) == LimitSettings()
    settings = LimitSettings.from_credentials(
        {"sender_burst": "5", "ip_per_minute": 12.5, "max_message_chars": 200, "trusted_proxies": "127.0.0.1, ::1"}
    )
    assert (settings.sender_burst, settings.ip_per_minute, settings.max_message_chars) == (5, 12.5, 200)
    assert settings.trusted_proxies == {"127.0.0.1", "::1"}
    monkeypatch.setenv("RASA_TRUSTED_PROXIES", "10.0.0.2")
    assert LimitSettings.from_credentials({"trusted_proxies": "127.0.0.1"}).trusted_proxies == {"10.0.0.2"}


@pytest.mark.parametrize(
    "settings",
    [{"sender_burst": "lots"}, {"ip_burst": 0}, {"sender_per_minute": -1}, {"trusted_proxies": "nginx.local"}],
)
def test_bad_settings_fail_at_start_up(settings, monkeypatch):
    monkeypatch.delenv("RASA_TRUSTED_PROXIES", raising=False)
    with pytest.raises(LimitsConfigError):
        LimitSettings.from_credentials(settings)


def test_trusted_proxies_none_says_clients_connect_directly(monkeypatch):
    # "none" is the explicit answer production mode asks for (security/proxies.py)
    monkeypatch.setenv("RASA_TRUSTED_PROXIES", "none")
    assert LimitSettings.from_credentials({"trusted_proxies": "127.0.0.1"}).trusted_proxies == frozenset()
    assert parse_proxies(" None ") == frozenset()
    with pytest.raises(LimitsConfigError, match="not an IP address"):
        parse_proxies("none, 10.0.0.1")  # either addresses or none, not both


def test_client_ip_trusts_forwarded_for_only_from_a_trusted_proxy():
    proxies = parse_proxies("127.0.0.1")
    assert client_ip("198.51.100.7", "203.0.113.9", proxies) == "198.51.100.7"  # spoofed header ignored
    assert client_ip("127.0.0.1", "203.0.113.9", proxies) == "203.0.113.9"
    # nginx appends the peer: a client-written entry on the left is not believed
    assert client_ip("127.0.0.1", "1.2.3.4, 203.0.113.9", proxies) == "203.0.113.9"
    assert client_ip("127.0.0.1", None, proxies) == "127.0.0.1"
    assert client_ip("127.0.0.1", "203.0.113.9", frozenset()) == "127.0.0.1"


def test_gate_tells_a_flooding_sender_once_then_drops_quietly():
    gate = InputGate(LimitSettings(sender_burst=2, sender_per_minute=0.01))
    assert gate.admit("+447700900001", "yes").text == "yes"
    assert gate.admit("+447700900001", None).text is None  # a tap counts too
    first, second = gate.admit("+447700900001", "yes"), gate.admit("+447700900001", "yes")
    assert (first.reply, first.reason) == (RATE_LIMIT_REPLY, "rate_limited")
    assert "call 999" in first.reply  # a refused message may have been urgent
    assert (second.reply, second.text, second.reason) == (None, None, "rate_limited")
    assert gate.admit("+447700900002", "yes").text == "yes"


def test_gate_uses_the_channels_own_reply_for_a_message_without_text():
    gate = InputGate()
    assert gate.admit("a", "", empty_reply="photos are not read").reply == "photos are not read"
    assert gate.admit("b", "   ").reason == "empty"
    assert gate.admit("c", "x" * 2000).reason == "too_long"
