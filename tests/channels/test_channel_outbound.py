"""Calls to the platforms' APIs: retries on 5xx and connection errors, none on 4xx, and a
final-failure log line without message text or phone numbers. Plus the replay memory."""

import asyncio
import logging
import socket

import aiohttp
import pytest

from channels.outbound import ApiClient, sender_ref
from channels.replay import RecentIds
from tests.support.standin import StandIn

PATIENT = "+447700900123"  # fictional (Ofcom drama range)
TEXT = "Do you get headaches at your temples?"


@pytest.fixture
def standin():
    with StandIn() as running:
        yield running


def post(url, client=None, **kwargs):
    client = client or ApiClient("twilio_verified", backoff_seconds=0.01)

    async def go():
        try:
            return await client.post(
                url,
                sender=sender_ref(PATIENT, "key"),
                what="reply part 1 of 1",
                form={"To": PATIENT, "Body": TEXT},
                **kwargs,
            )
        finally:
            await client.close()

    return asyncio.run(go())


def test_a_5xx_is_retried_and_the_retry_succeeds(standin):
    standin.fail_next(1, status=500)
    answer = post(standin.url + "/2010-04-01/Accounts/AC1/Messages.json", auth=aiohttp.BasicAuth("AC1", "tok"))
    assert answer["status"] == "queued"
    assert [c.form["Body"] for c in standin.calls] == [TEXT, TEXT]
    assert standin.calls[0].headers["Authorization"].startswith("Basic ")


def test_giving_up_logs_one_line_with_a_hashed_sender_and_no_text_or_number(standin, caplog):
    standin.fail_next(3, status=503)
    with caplog.at_level(logging.ERROR, logger="channels.outbound"):
        assert post(standin.url + "/Messages.json") is None
    assert len(standin.calls) == 3
    [line] = [r.getMessage() for r in caplog.records]
    assert line == (
        f"twilio_verified: could not send reply part 1 of 1 to sender {sender_ref(PATIENT, 'key')} "
        "after 3 attempt(s): HTTP 503, platform code 20500"
    )
    assert "7700" not in line and "headache" not in line and standin.url not in line


def test_a_4xx_is_not_retried(standin, caplog):
    standin.fail_next(1, status=400)
    with caplog.at_level(logging.ERROR, logger="channels.outbound"):
        assert post(standin.url + "/Messages.json") is None
    assert len(standin.calls) == 1
    assert "after 1 attempt(s): HTTP 400" in caplog.text and "7700" not in caplog.text


def test_rate_limits_are_retried(standin):
    standin.fail_next(2, status=429)
    assert post(standin.url + "/Messages.json") is not None
    assert len(standin.calls) == 3


def test_connection_errors_are_retried_then_logged_without_the_url(caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/bot123:SECRET/sendMessage"
    with caplog.at_level(logging.ERROR, logger="channels.outbound"):
        assert post(url) is None
    assert "after 3 attempt(s): ClientConnectorError" in caplog.text
    assert "SECRET" not in caplog.text


def test_sender_refs_are_stable_keyed_and_reveal_nothing():
    assert sender_ref(PATIENT, "k1") == sender_ref(PATIENT, "k1")
    assert sender_ref(PATIENT, "k1") != sender_ref(PATIENT, "k2")
    assert sender_ref(PATIENT, "k1") != sender_ref("+447700900124", "k1")
    assert "7700" not in sender_ref(PATIENT, "k1") and len(sender_ref(PATIENT, "k1")) == 14


def test_recent_ids_remember_within_the_ttl_bounded_and_can_forget():
    now = [0.0]
    seen = RecentIds(max_items=2, ttl_seconds=60, clock=lambda: now[0])
    assert seen.first_time("SM1") and not seen.first_time("SM1")
    seen.forget("SM1")
    assert seen.first_time("SM1")
    assert seen.first_time("SM2") and seen.first_time("SM3")  # SM1 pushed out by the bound
    assert seen.first_time("SM1")
    now[0] = 61
    assert seen.first_time("SM3")  # expired
