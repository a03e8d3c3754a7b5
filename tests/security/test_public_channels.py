"""The guarded REST channel's handler and the messaging channels' use of the same limits,
with a stand-in bot: what is refused with which status and message, what reaches the bot."""

import asyncio
import json

import pytest
from sanic.compat import Header

from channels import guard
from channels.input_limits import RATE_LIMIT_REPLY, InputGate, LimitSettings
from channels.outbound import ApiClient
from channels.rest_guarded import GuardedRestInput
from channels.telegram import TelegramVerifiedInput
from channels.twilio import EMPTY_TWIML, TwilioVerifiedInput
from clinical.offered_buttons import message_id
from tests.support.platforms import (
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_SECRET,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_WEBHOOK_URL,
    TelegramPatient,
    TwilioPatient,
)
from tests.support.standin import StandIn


class FakeStream:
    """The request body as Sanic's streaming handlers see it, in small chunks."""

    def __init__(self, body, chunk=4096):
        self.chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
        self.read_chunks = 0

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for chunk in self.chunks:
            self.read_chunks += 1
            yield chunk


class FakeRequest:
    def __init__(self, body=b"", headers=None, ip="198.51.100.1", args=None):
        self.body = body
        self.headers = Header(headers or {})
        self.stream = FakeStream(body)
        self.ip = ip
        self.args = args or {}


class StandInBot:
    def __init__(self, fail=False):
        self.received, self.fail = [], fail

    async def __call__(self, message):
        self.received.append((message.sender_id, message.text, message.input_channel, message.metadata))
        if self.fail:
            raise RuntimeError("the bot broke")
        await message.output_channel.send_text_with_buttons(
            message.sender_id, "Are you okay?", [{"title": "Yes", "payload": "/affirm"}]
        )


def post(channel, bot, body, **request):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    answer = asyncio.run(channel.receive(FakeRequest(body, **request), bot))
    return answer.status, json.loads(answer.body), answer.headers


def rest(**settings):
    return GuardedRestInput(InputGate(LimitSettings(**settings)))


def web(n: int) -> str:
    """A conversation id of the widget's form (channels/sender_ids.py), one per n."""
    return f"web-{n:024x}"


WEB_1 = web(1)


# ---- REST: good requests are answered exactly like the stock channel ------------------


def test_a_good_message_reaches_the_bot_and_the_reply_has_the_stock_shape():
    bot, sender = StandInBot(), web(0xABC123)
    status, body, _ = post(
        rest(),
        bot,
        {"sender": sender, "message": "  hi  ", "metadata": {"page": "/treatment"}, "input_channel": "twilio"},
    )
    assert status == 200
    buttons = [{"title": "Yes", "payload": "/affirm"}]
    # the stock shape, plus the id a tap on its buttons sends back (channels/taps.py)
    assert body == [
        {
            "recipient_id": sender,
            "text": "Are you okay?",
            "buttons": buttons,
            "message_id": message_id("Are you okay?", buttons),
        }
    ]
    # cleaned text; the channel is always "rest" whatever the body claims; metadata keys
    # the project does not read are dropped before the assistant sees the message
    assert bot.received == [(sender, "hi", "rest", None)]


def test_a_bot_failure_answers_with_what_was_collected_like_the_stock_channel():
    status, body, _ = post(rest(), StandInBot(fail=True), {"sender": WEB_1, "message": "hi"})
    assert (status, body) == (200, [])


# ---- REST: malformed bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    "body, words",
    [
        (b"", "must be JSON"),
        (b"{not json", "must be JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[]", "JSON object"),
        (b'"hi"', "JSON object"),
        (b"null", "JSON object"),
        ({"message": "hi"}, '"sender"'),
        ({"sender": "", "message": "hi"}, '"sender"'),
        ({"sender": 12, "message": "hi"}, '"sender"'),
        ({"sender": "a" * 129, "message": "hi"}, '"sender"'),
        ({"sender": "../../conversations/x", "message": "hi"}, '"sender"'),
        ({"sender": "web 1", "message": "hi"}, '"sender"'),
        ({"sender": WEB_1}, '"message"'),
        ({"sender": WEB_1, "message": None}, '"message"'),
        ({"sender": WEB_1, "message": ["hi"]}, '"message"'),
        ({"sender": WEB_1, "message": {"text": "hi"}}, '"message"'),
        ({"sender": WEB_1, "message": "hi", "metadata": "x"}, '"metadata"'),
        # issue 26: another channel's conversation, the bounds on depth and metadata
        ({"sender": "+447700900123", "message": "I want to change an answer"}, "web-"),
        ({"sender": "whatsapp:+447700900123", "message": "hi"}, "web-"),
        ({"sender": "900000001", "message": "hi"}, "web-"),
        ({"sender": WEB_1.upper(), "message": "hi"}, "lowercase hex"),
        (b"[" * 1000 + b"]" * 1000, "nested too deeply"),
        ({"sender": WEB_1, "message": "hi", "metadata": {"a": [[[[[[[[[]]]]]]]]]}}, "nested too deeply"),
        ({"sender": WEB_1, "message": "hi", "metadata": {"k": "x" * 60_000}}, '"metadata" is too large'),
    ],
)
def test_malformed_bodies_get_a_400_naming_the_problem(body, words):
    bot = StandInBot()
    status, answer, _ = post(rest(), bot, body)
    assert status == 400 and words in answer["error"]
    assert set(answer) == {"error"} and "Traceback" not in answer["error"]
    assert bot.received == []


def test_stream_mode_is_refused_not_silently_changed():
    status, answer, _ = post(rest(), StandInBot(), {"sender": WEB_1, "message": "hi"}, args={"stream": "true"})
    assert status == 400 and "stream" in answer["error"]


def test_huge_body_is_refused_with_413_before_it_is_read():
    channel, bot = rest(), StandInBot()
    body = json.dumps({"sender": WEB_1, "message": "x" * 1_000_000}).encode()
    declared = FakeRequest(body, headers={"Content-Length": str(len(body))})
    answer = asyncio.run(channel.receive(declared, bot))
    assert answer.status == 413 and "too large" in json.loads(answer.body)["error"]
    assert declared.stream.read_chunks == 0  # refused on the declared length alone
    undeclared = FakeRequest(body)  # chunked: stops reading once over the limit
    answer = asyncio.run(channel.receive(undeclared, bot))
    assert answer.status == 413 and undeclared.stream.read_chunks < 20
    assert bot.received == []


# ---- REST: the guard ------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, reply",
    [
        ("", guard.EMPTY_REPLY),
        ("   \n ", guard.EMPTY_REPLY),
        ("x" * 10_000, None),
        ("/restart", guard.COMMAND_REPLY),
        ("/eligible", guard.COMMAND_REPLY),
        ("Me duele la mandíbula cuando como", guard.NOT_ENGLISH_REPLY),
    ],
)
def test_guarded_messages_get_a_polite_reply_and_never_reach_the_bot(message, reply):
    bot = StandInBot()
    status, body, _ = post(rest(), bot, {"sender": WEB_1, "message": message})
    assert status == 200 and len(body) == 1 and body[0]["recipient_id"] == WEB_1
    assert body[0]["text"] == reply if reply else "keep it short" in body[0]["text"]
    assert bot.received == []


def test_button_payloads_with_our_intents_reach_the_bot():
    bot = StandInBot()
    post(rest(), bot, {"sender": WEB_1, "message": '/inform{"option": "none"}'})
    assert bot.received[0][1] == '/inform{"option": "none"}'


# ---- REST: rate limits ------------------------------------------------------------------


def test_per_sender_limit_gives_429_with_a_friendly_message_and_retry_after():
    channel, bot = rest(sender_burst=3, sender_per_minute=6), StandInBot()
    statuses = [post(channel, bot, {"sender": WEB_1, "message": "hi"})[0] for _ in range(3)]
    status, body, headers = post(channel, bot, {"sender": WEB_1, "message": "hi"})
    assert statuses == [200, 200, 200] and status == 429
    assert body == {"error": RATE_LIMIT_REPLY, "retry_after": 10} and headers["Retry-After"] == "10"
    assert post(channel, bot, {"sender": web(2), "message": "hi"})[0] == 200  # others unaffected
    assert len(bot.received) == 4


def test_per_ip_limit_counts_every_request_even_malformed_ones():
    channel, bot = rest(ip_burst=3, ip_per_minute=1), StandInBot()
    assert post(channel, bot, b"{broken")[0] == 400
    assert [post(channel, bot, {"sender": web(n), "message": "hi"})[0] for n in range(3)] == [200, 200, 429]
    assert post(channel, bot, {"sender": web(9), "message": "hi"}, ip="198.51.100.2")[0] == 200


def test_loopback_is_not_ip_limited_but_senders_still_are():
    channel, bot = rest(ip_burst=1, ip_per_minute=1, sender_burst=2, sender_per_minute=1), StandInBot()
    local = [post(channel, bot, {"sender": web(n), "message": "hi"}, ip="127.0.0.1")[0] for n in range(5)]
    assert local == [200] * 5
    same = [post(channel, bot, {"sender": web(0x78), "message": "hi"}, ip="::1")[0] for _ in range(3)]
    assert same == [200, 200, 429]


def test_per_ip_limit_uses_forwarded_for_only_behind_a_trusted_proxy():
    channel, bot = rest(ip_burst=1, ip_per_minute=1, trusted_proxies=frozenset({"127.0.0.1"})), StandInBot()

    def via_proxy(client):
        return post(
            channel, bot, {"sender": WEB_1, "message": "hi"}, ip="127.0.0.1", headers={"X-Forwarded-For": client}
        )[0]

    assert via_proxy("203.0.113.1") == 200 and via_proxy("203.0.113.2") == 200
    assert via_proxy("203.0.113.1") == 429

    # a client cannot escape its limit by sending its own X-Forwarded-For
    def direct(fake):
        return post(
            channel, bot, {"sender": web(2), "message": "hi"}, ip="198.51.100.5", headers={"X-Forwarded-For": fake}
        )[0]

    assert direct("203.0.113.50") == 200 and direct("203.0.113.51") == 429


# ---- Twilio and Telegram: the same guard and sender limit ------------------------------


@pytest.fixture
def standin():
    with StandIn() as running:
        yield running


def deliver(channel, bot, request):
    body, headers = request

    async def go():
        try:
            return await channel._receive(FakeRequest(body, headers), bot)
        finally:
            await channel.client.close()

    return asyncio.run(go())


def twilio(standin, **settings):
    return TwilioVerifiedInput(
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        TWILIO_WEBHOOK_URL,
        standin.url,
        client=ApiClient("twilio_verified", backoff_seconds=0.01),
        gate=InputGate(LimitSettings(**settings)),
    )


def telegram(standin, **settings):
    return TelegramVerifiedInput(
        TELEGRAM_BOT_TOKEN,
        TELEGRAM_SECRET,
        standin.url,
        client=ApiClient("telegram_verified", backoff_seconds=0.01),
        gate=InputGate(LimitSettings(**settings)),
    )


@pytest.mark.parametrize(
    "text, reply",
    [
        ("/restart", guard.COMMAND_REPLY),
        ("x" * 10_000, "keep it short"),
        ("Ich habe Schmerzen im Kiefer wenn ich kaue", guard.NOT_ENGLISH_REPLY),
        ("\x00\x07", guard.EMPTY_REPLY),
    ],
)
def test_twilio_guarded_messages_are_answered_by_sms_and_never_reach_the_bot(standin, text, reply):
    bot, patient = StandInBot(), TwilioPatient("+447700900123")
    answer = deliver(twilio(standin), bot, patient.message(text))
    assert (answer.status, answer.body.decode()) == (200, EMPTY_TWIML)
    assert bot.received == []
    [sms] = standin.calls
    assert sms.form["To"] == patient.address and reply in sms.form["Body"]


def test_twilio_flood_is_told_once_then_dropped_quietly(standin):
    channel, bot, patient = (
        twilio(standin, sender_burst=2, sender_per_minute=0.5),
        StandInBot(),
        TwilioPatient("+447700900124"),
    )
    answers = [deliver(channel, bot, patient.message(f"message {n}")) for n in range(5)]
    assert all(a.status == 200 for a in answers)  # Twilio must not retry them
    assert [t for _, t, *_ in bot.received] == ["message 0", "message 1"]
    notes = [c.form["Body"] for c in standin.calls if c.form["Body"] == RATE_LIMIT_REPLY]
    assert len(notes) == 1


def test_telegram_guarded_message_and_command_are_answered_without_the_bot(standin):
    bot, patient = StandInBot(), TelegramPatient(900_000_001)
    channel = telegram(standin)
    deliver(channel, bot, patient.message("/help"))
    deliver(channel, bot, patient.message("Tenho dor na mandíbula quando como"))
    assert bot.received == []
    assert [c.json["text"] for c in standin.calls] == [guard.COMMAND_REPLY, guard.NOT_ENGLISH_REPLY]
    deliver(channel, bot, patient.message("/start"))  # still the greeting
    assert bot.received[0][1] == "hi"


def test_telegram_taps_count_towards_the_sender_limit(standin):
    bot, patient = StandInBot(), TelegramPatient(900_000_002)
    channel = telegram(standin, sender_burst=1, sender_per_minute=0.5)
    deliver(channel, bot, patient.message("hi"))
    keyboard = standin.calls[-1].json["reply_markup"]["inline_keyboard"]
    deliver(channel, bot, patient.tap(keyboard[0][0]["callback_data"]))
    assert len(bot.received) == 1
    [ack] = [c.json for c in standin.calls if c.method == "answerCallbackQuery"]
    assert ack["text"] == RATE_LIMIT_REPLY
