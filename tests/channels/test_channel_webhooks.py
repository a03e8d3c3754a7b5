"""The webhooks' handling, with a stand-in bot: what reaches the bot, what is refused with
which status, and what is sent back to the platform (recorded by a local stand-in API)."""

import asyncio
import json

import pytest
from sanic.compat import Header

from channels.outbound import ApiClient
from channels.telegram import STALE_TAP_NOTE, TelegramVerifiedInput
from channels.twilio import EMPTY_TWIML, TwilioVerifiedInput
from channels.webhook import TEXT_ONLY_NOTE, ChannelConfigError
from serving import extensions
from tests.support.platforms import (
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_SECRET,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_WEBHOOK_URL,
    TelegramPatient,
    TwilioPatient,
    new_message_sid,
)
from tests.support.standin import StandIn

YES = {"title": "Yes", "payload": '/inform{"option": "yes"}'}
NO = {"title": "No", "payload": '/inform{"option": "no"}'}
QUESTION = "Do you get headaches at your temples?"


class FakeRequest:
    def __init__(self, body, headers):
        self.body, self.headers = body, Header(headers)


class StandInBot:
    """Records what reaches it and answers every message with the same yes/no question."""

    def __init__(self, reply=QUESTION, fail=False):
        self.received, self.reply, self.fail = [], reply, fail

    async def __call__(self, message):
        self.received.append((message.sender_id, message.text))
        if self.fail:
            raise RuntimeError("the bot broke")
        await message.output_channel.send_text_message(message.sender_id, "Thanks.")
        await message.output_channel.send_text_with_buttons(message.sender_id, self.reply, [YES, NO])


@pytest.fixture
def standin():
    with StandIn() as running:
        yield running


@pytest.fixture
def twilio(standin):
    return TwilioVerifiedInput(
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        TWILIO_WEBHOOK_URL,
        standin.url,
        client=ApiClient("twilio_verified", backoff_seconds=0.01),
    )


@pytest.fixture
def telegram(standin):
    return TelegramVerifiedInput(
        TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET, standin.url, client=ApiClient("telegram_verified", backoff_seconds=0.01)
    )


def deliver(channel, bot, request):
    """Posts one webhook request to the channel's handler, as Sanic would."""
    body, headers = request

    async def go():
        try:
            return await channel._receive(FakeRequest(body, headers), bot)
        finally:
            await channel.client.close()

    return asyncio.run(go())


PATIENT = TwilioPatient("+447700900123")


# ---- Twilio -------------------------------------------------------------------------


def test_twilio_message_reaches_the_bot_and_the_turn_goes_back_as_one_sms(twilio, standin):
    bot = StandInBot()
    answer = deliver(twilio, bot, PATIENT.message("hi"))
    assert (answer.status, answer.body.decode()) == (200, EMPTY_TWIML)
    assert bot.received == [("+447700900123", "hi")]
    [call] = standin.calls
    assert call.path == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json"
    assert call.form == {
        "To": "+447700900123",
        "From": "+447700900999",
        "Body": f"Thanks.\n\n{QUESTION}\n\n1. Yes\n2. No",
    }


def test_twilio_replies_by_number_or_words_reach_the_bot_as_the_offered_payload(twilio):
    bot = StandInBot()
    for text in ("hi", "2", "yes.", "3", "maybe"):
        deliver(twilio, bot, PATIENT.message(text))
    assert [t for _, t in bot.received] == ["hi", NO["payload"], YES["payload"], "3", "maybe"]


@pytest.mark.parametrize(
    "change, status, reason",
    [
        (lambda body, headers: (body, {**headers, "X-Twilio-Signature": ""}), 403, b"Missing X-Twilio-Signature"),
        (lambda body, headers: (body, {**headers, "X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="}), 403, b"Invalid"),
        (lambda body, headers: (body.replace(b"Body=hi", b"Body=yes"), headers), 403, b"Invalid"),
        (
            lambda body, headers: TwilioPatient("+447700900123", token="someone-elses-token").message("hi"),
            403,
            b"Invalid",
        ),
        (
            lambda body, headers: (b'{"Body": "hi"}', {**headers, "Content-Type": "application/json"}),
            400,
            b"form-encoded",
        ),
        (lambda body, headers: (b"\xff\xfe\x00garbage", headers), 400, b"Malformed"),
        (lambda body, headers: (b"x" * 70_000, headers), 413, b"too large"),
    ],
)
def test_twilio_unauthenticated_or_malformed_requests_never_reach_the_bot(twilio, standin, change, status, reason):
    bot = StandInBot()
    answer = deliver(twilio, bot, change(*PATIENT.message("hi")))
    assert answer.status == status and reason in answer.body
    assert bot.received == [] and standin.calls == []


def test_twilio_signed_but_incomplete_or_foreign_requests_are_refused(twilio, standin):
    bot = StandInBot()
    form = PATIENT.form("hi")
    no_sid = {k: v for k, v in form.items() if k not in ("MessageSid", "SmsSid", "SmsMessageSid")}
    assert deliver(twilio, bot, PATIENT.signed(no_sid)).status == 400
    assert deliver(twilio, bot, PATIENT.signed({**form, "MessageSid": "not-a-sid"})).status == 400
    assert deliver(twilio, bot, PATIENT.signed({**form, "From": ""})).status == 400
    foreign = deliver(twilio, bot, PATIENT.signed({**form, "AccountSid": "AC" + "9" * 32}))
    assert foreign.status == 403 and b"different Twilio account" in foreign.body
    assert bot.received == [] and standin.calls == []


def test_twilio_replayed_message_sid_is_acknowledged_but_not_processed_again(twilio, standin):
    bot = StandInBot()
    request = PATIENT.message("hi", message_sid=new_message_sid())
    assert deliver(twilio, bot, request).status == 200
    assert deliver(twilio, bot, request).status == 200
    assert len(bot.received) == 1 and len(standin.calls) == 1


def test_twilio_media_without_text_gets_a_note_and_status_callbacks_are_ignored(twilio, standin):
    bot = StandInBot()
    photo = {**PATIENT.form(""), "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1"}
    assert deliver(twilio, bot, PATIENT.signed(photo)).status == 200
    assert [c.form["Body"] for c in standin.calls] == [TEXT_ONLY_NOTE]
    status_callback = {**PATIENT.form(""), "SmsStatus": "delivered", "MessageStatus": "delivered"}
    assert deliver(twilio, bot, PATIENT.signed(status_callback)).status == 200
    assert bot.received == [] and len(standin.calls) == 1


def test_twilio_when_the_bot_fails_the_answer_is_a_short_500_and_a_retry_is_processed(twilio, standin):
    request = PATIENT.message("hi", message_sid=new_message_sid())
    failed = deliver(twilio, StandInBot(fail=True), request)
    assert failed.status == 500 and b"Traceback" not in failed.body and b"broke" not in failed.body
    bot = StandInBot()
    assert deliver(twilio, bot, request).status == 200 and len(bot.received) == 1


def test_sms_at_signs_mangled_by_carriers_are_repaired_but_not_on_whatsapp(twilio):
    bot = StandInBot()
    deliver(twilio, bot, PATIENT.message("sam¡example.org"))
    deliver(twilio, bot, TwilioPatient("+447700900124", whatsapp=True).message("¡hola!"))
    assert [t for _, t in bot.received] == ["sam@example.org", "¡hola!"]


def test_whatsapp_replies_go_from_the_clinics_whatsapp_sender(twilio, standin):
    patient = TwilioPatient("+447700900125", whatsapp=True)
    deliver(twilio, StandInBot(), patient.message("hi"))
    assert (standin.calls[0].form["To"], standin.calls[0].form["From"]) == (
        "whatsapp:+447700900125",
        "whatsapp:+447700900998",
    )


def test_a_long_turn_is_split_in_order_within_twilios_limit(twilio, standin):
    paragraphs = [f"Paragraph {i}. " + "Some words about jaw pain. " * 12 for i in range(12)]
    deliver(twilio, StandInBot(reply="\n\n".join(paragraphs)), PATIENT.message("hi"))
    bodies = [c.form["Body"] for c in standin.calls]
    assert len(bodies) > 1 and all(len(b) <= 1600 for b in bodies)
    assert " ".join(" ".join(bodies).split()) == " ".join(f"Thanks. {' '.join(paragraphs)} 1. Yes 2. No".split())


def test_twilio_stops_sending_a_turn_at_a_part_that_could_not_be_sent(twilio, standin):
    standin.fail_next(3, status=503)
    long_reply = "\n\n".join("Words about jaw pain. " * 30 for _ in range(4))
    deliver(twilio, StandInBot(reply=long_reply), PATIENT.message("hi"))
    assert len(standin.calls) == 3  # three attempts at part 1, nothing after it


# ---- Telegram -----------------------------------------------------------------------

CHAT = TelegramPatient(900000001)


def test_telegram_message_reaches_the_bot_and_buttons_come_back_as_a_numbered_keyboard(telegram, standin):
    bot = StandInBot()
    assert deliver(telegram, bot, CHAT.message("hello")).status == 200
    assert bot.received == [("900000001", "hello")]
    thanks, question = standin.calls
    assert thanks.path == f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage"
    assert thanks.json == {"chat_id": "900000001", "text": "Thanks."}
    rows = question.json["reply_markup"]["inline_keyboard"]
    assert question.json["text"] == QUESTION
    assert [row[0]["text"] for row in rows] == ["1. Yes", "2. No"]


def test_telegram_taps_typed_numbers_and_words_reach_the_bot_as_the_offered_payload(telegram, standin):
    bot = StandInBot()
    deliver(telegram, bot, CHAT.message("hello"))
    data = standin.calls[-1].json["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    deliver(telegram, bot, CHAT.tap(data))
    assert standin.calls[-1].method == "answerCallbackQuery" and "text" not in standin.calls[-1].json
    deliver(telegram, bot, CHAT.message("1"))
    deliver(telegram, bot, CHAT.message("No"))
    assert [t for _, t in bot.received] == ["hello", NO["payload"], YES["payload"], NO["payload"]]


def test_telegram_a_tap_on_an_old_keyboard_is_not_an_answer(telegram, standin):
    bot = StandInBot()
    deliver(telegram, bot, CHAT.message("hello"))
    old = standin.calls[-1].json["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    deliver(telegram, bot, CHAT.message("maybe"))  # a new turn, new buttons
    deliver(telegram, bot, CHAT.tap(old))
    assert [t for _, t in bot.received] == ["hello", "maybe"]
    assert standin.calls[-1].method == "answerCallbackQuery"
    assert standin.calls[-1].json["text"] == STALE_TAP_NOTE


def test_telegram_start_command_is_a_greeting_and_stickers_get_a_note(telegram, standin):
    bot = StandInBot()
    deliver(telegram, bot, CHAT.message("/start"))
    sticker = CHAT.message_update("x")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "CAAC", "emoji": "👍"}
    deliver(telegram, bot, CHAT.raw(sticker))
    assert bot.received == [("900000001", "hi")]
    assert standin.calls[-1].json == {"chat_id": "900000001", "text": TEXT_ONLY_NOTE}


@pytest.mark.parametrize(
    "request_, status, reason",
    [
        (TelegramPatient(900000001, secret="wrong-secret").message("hi"), 403, b"Secret-Token"),
        ((CHAT.message("hi")[0], {"Content-Type": "application/json"}), 403, b"Secret-Token"),
        ((b"{not json", CHAT.message("hi")[1]), 400, b"not JSON"),
        # nested past Python's recursion limit: a 400, not a RecursionError and a 500 (issue 26)
        ((b"[" * 5000 + b"]" * 5000, CHAT.message("hi")[1]), 400, b"not JSON"),
        ((json.dumps({"message": {"text": "hi"}}).encode(), CHAT.message("hi")[1]), 400, b"update_id"),
        (CHAT.raw({"update_id": 5, "message": {"text": "hi", "chat": {"id": "x"}}}), 400, b"chat id"),
        (CHAT.raw({"update_id": 6, "callback_query": {"id": "1", "data": "x"}}), 400, b"chat id"),
    ],
)
def test_telegram_unauthenticated_or_malformed_updates_never_reach_the_bot(telegram, standin, request_, status, reason):
    bot = StandInBot()
    answer = deliver(telegram, bot, request_)
    assert answer.status == status and reason in answer.body
    assert bot.received == [] and standin.calls == []


def test_telegram_replayed_updates_group_chats_and_other_updates_are_not_processed(telegram, standin):
    bot = StandInBot()
    update = CHAT.message("hello")
    assert deliver(telegram, bot, update).status == 200
    assert deliver(telegram, bot, update).status == 200  # Telegram re-sent it
    group = CHAT.message_update("hi")
    group["message"]["chat"] = {"id": -100123, "title": "Family", "type": "group"}
    assert deliver(telegram, bot, CHAT.raw(group)).status == 200
    assert deliver(telegram, bot, CHAT.raw({"update_id": 7, "edited_message": {"text": "x"}})).status == 200
    assert len(bot.received) == 1 and len(standin.calls) == 2


# ---- settings -----------------------------------------------------------------------


def test_missing_or_bad_settings_stop_start_up_naming_the_variable(monkeypatch):
    with pytest.raises(ChannelConfigError, match="TWILIO_AUTH_TOKEN"):
        TwilioVerifiedInput.from_credentials({"account_sid": "AC1", "auth_token": " ", "webhook_url": "https://x"})
    with pytest.raises(ChannelConfigError, match="TWILIO_WEBHOOK_URL must be a full"):
        TwilioVerifiedInput.from_credentials({"account_sid": "AC1", "auth_token": "t", "webhook_url": "x.example"})
    with pytest.raises(ChannelConfigError, match="TELEGRAM_WEBHOOK_SECRET must be"):
        TelegramVerifiedInput.from_credentials({"bot_token": "1:a", "secret_token": "has spaces"})
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "ftp://nope")
    with pytest.raises(ChannelConfigError, match="TELEGRAM_API_BASE_URL"):
        TelegramVerifiedInput.from_credentials({"bot_token": "1:a", "secret_token": "ok"})
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:9/")
    # As in a server started by `python -m serving run` (else the channel refuses to start).
    monkeypatch.setattr(extensions, "_outcomes", {"fault handling": extensions.Outcome(True)})
    channel = TwilioVerifiedInput.from_credentials(
        {"account_sid": "AC1", "auth_token": "t", "webhook_url": "https://x"}
    )
    assert channel.messages_url == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"
