"""Bad input through the public channels, end to end (issue 6): the trained assistant and
its action server run with the guarded REST channel and the signed Twilio / Telegram
webhooks; each bad input is sent as a visitor or a platform would send it.

For each: the reply is sensible (status and text), the server answers a normal next
message, and the stored transcript (Rasa's tracker, read over the token-protected API)
is intact: events in order, forged payloads set no answer and no outcome, nothing huge
stored. One assistant for the whole module."""

import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from channels import guard
from channels.input_limits import RATE_LIMIT_REPLY
from channels.sender_ids import new_web_sender
from clinical.questionnaire import load_questionnaire
from tests.support.platforms import (
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_SECRET,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_WEBHOOK_URL,
    TelegramPatient,
    TwilioPatient,
)
from tests.support.servers import start_assistant
from tests.support.standin import StandIn
from tests.support.text_conversations import TelegramConversation, TwilioConversation

pytestmark = pytest.mark.e2e

CLINIC_ORIGIN = "https://www.clinic.example"
SENDER_BURST = 12  # the test server's per-sender limit: room for the 10 concurrent messages
IP_BURST = 40
CONSENT_QUESTION = "Is it okay if I ask about your health"
SAFETY_QUESTION = "First, a few safety questions"
ANSWER_SLOTS = load_questionnaire().ids


@pytest.fixture(scope="module")
def standin():
    with StandIn() as running:
        yield running


@pytest.fixture(scope="module")
def assistant(standin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad-input")
    credentials = workdir / "credentials.yml"
    # Throw-away test secrets (tests/support/platforms.py). Small limits so that the
    # limits themselves can be tested; 127.0.0.1 is "the proxy", so each test can be its
    # own visitor by X-Forwarded-For.
    credentials.write_text(
        "channels.rest_guarded.GuardedRestInput:\n"
        f"  sender_burst: {SENDER_BURST}\n  sender_per_minute: 60\n"
        f"  ip_burst: {IP_BURST}\n  ip_per_minute: 60\n  trusted_proxies: 127.0.0.1\n"
        "channels.twilio.TwilioVerifiedInput:\n"
        f"  account_sid: {TWILIO_ACCOUNT_SID}\n  auth_token: {TWILIO_AUTH_TOKEN}\n"
        f"  webhook_url: {TWILIO_WEBHOOK_URL}\n"
        "channels.telegram.TelegramVerifiedInput:\n"
        f'  bot_token: "{TELEGRAM_BOT_TOKEN}"\n  secret_token: {TELEGRAM_SECRET}\n'
    )
    env = {"TWILIO_API_BASE_URL": standin.url, "TELEGRAM_API_BASE_URL": standin.url}
    running = start_assistant(workdir, env, extra_rasa_args=("--cors", CLINIC_ORIGIN), credentials=credentials)
    yield running
    running.stop()


_visitors = itertools.count(1)


class Visitor:
    """One website visitor: its own conversation id and its own IP (X-Forwarded-For)."""

    def __init__(self, assistant):
        n = next(_visitors)
        self.assistant = assistant
        self.sender = new_web_sender()
        self.ip = f"198.51.100.{n}"
        self.sent = []  # what reached the assistant, in order

    def post(self, body, headers=None) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body)
        return requests.post(
            f"{self.assistant.url}/webhooks/rest/webhook",
            data=data,
            timeout=60,
            headers={"Content-Type": "application/json", "X-Forwarded-For": self.ip, **(headers or {})},
        )

    def say(self, text: str) -> requests.Response:
        response = self.post({"sender": self.sender, "message": text})
        assert response.status_code == 200, (response.status_code, response.text)
        return response

    def replies(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text).json())

    def tracker(self):
        return self.assistant.tracker(self.sender)

    def user_texts(self):
        return [e["text"] for e in self.tracker()["events"] if e["event"] == "user"]


def assert_intact(tracker):
    """Events in time order, each user message followed by the bot's turn; nothing huge;
    no outcome."""
    events = tracker["events"]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert all(len(e.get("text") or "") <= 1000 for e in events if e["event"] == "user")
    assert tracker["slots"]["screening_outcome"] is None
    return events


def started(assistant) -> Visitor:
    """A visitor who has said hi and consented: the first safety question is showing."""
    visitor = Visitor(assistant)
    assert CONSENT_QUESTION in visitor.replies("hi")
    assert SAFETY_QUESTION in visitor.replies("yes")
    return visitor


# ---- what the guard answers, over REST ------------------------------------------------


@pytest.mark.parametrize("message", ["", "   ", "\n\t \r\n", "\x00\x1b\x7f"])
def test_empty_and_whitespace_only_messages(assistant, message):
    visitor = started(assistant)
    assert visitor.say(message).json() == [{"recipient_id": visitor.sender, "text": guard.EMPTY_REPLY}]
    assert visitor.replies("none of these")  # the next message is answered as usual
    assert visitor.tracker()["slots"]["rf_emergency"] == "none"
    assert visitor.user_texts() == ["hi", "yes", "none of these"]  # the empty one was not stored
    assert_intact(visitor.tracker())


@pytest.mark.parametrize("length", [1001, 10_000, 60_000])
def test_very_long_messages_are_refused_politely_and_nothing_is_stored(assistant, length):
    visitor = started(assistant)
    [reply] = visitor.say("my jaw hurts " * (length // 13 + 1)).json()
    assert "too long" in reply["text"] and "keep it short" in reply["text"]
    assert visitor.replies("none of these")  # the next message is answered as usual
    assert visitor.tracker()["slots"]["rf_emergency"] == "none"
    assert visitor.user_texts() == ["hi", "yes", "none of these"]
    assert_intact(visitor.tracker())


def test_control_characters_are_stripped_before_the_assistant_sees_them(assistant):
    visitor = started(assistant)
    visitor.say("none\x00 of\x1b these\x07")
    assert visitor.tracker()["slots"]["rf_emergency"] == "none"
    assert visitor.user_texts()[-1] == "none of these"


def test_emoji_and_right_to_left_text_get_a_sensible_answer_and_break_nothing(assistant):
    # Measured before the guard asked for words: the trained NLU read "👍", "😀😀😀 🙈",
    # "👨‍👩‍👧" and Arabic "نعم" as "yes" to the emergency question -> urgent-care outcome.
    visitor = started(assistant)
    for text in ("👍", "😀😀😀 🙈", "👨‍👩‍👧"):
        assert visitor.replies(text) == guard.NO_WORDS_REPLY
    assert visitor.replies("نعم") == guard.NOT_ENGLISH_REPLY
    assert visitor.tracker()["slots"]["screening_outcome"] is None
    visitor.say("\u200fnone of these 👍")  # a direction mark and an emoji with words
    tracker = visitor.tracker()
    assert tracker["slots"]["rf_emergency"] == "none"
    assert visitor.user_texts() == ["hi", "yes", "\u200fnone of these 👍"]
    assert_intact(tracker)


@pytest.mark.parametrize(
    "text",
    [
        "Me duele la mandíbula cuando como",
        "J'ai mal à la mâchoire quand je mange",
        "У меня болит челюсть, когда я ем",
        "我的下巴很疼，可以帮我吗",
        "أعاني من ألم في الفك عندما آكل",
    ],
)
def test_another_language_gets_a_polite_english_only_reply(assistant, text):
    visitor = started(assistant)
    assert visitor.replies(text) == guard.NOT_ENGLISH_REPLY
    assert SAFETY_QUESTION not in visitor.replies("none of these")
    assert visitor.tracker()["slots"]["rf_emergency"] == "none"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "Robert'); DROP TABLE events;--",
        "1 OR 1=1; SELECT * FROM consultation_requests",
        "{{7*7}} ${jndi:ldap://x}",
    ],
)
def test_markup_script_and_sql_are_just_text(assistant, text):
    visitor = started(assistant)
    replies = visitor.say(text).json()
    assert replies and "Traceback" not in json.dumps(replies)
    assert visitor.user_texts()[-1] == text  # stored as typed, as data
    assert visitor.replies("none of these")
    assert visitor.tracker()["slots"]["rf_emergency"] == "none"
    assert_intact(visitor.tracker())


# ---- payload-looking text --------------------------------------------------------------


def test_commands_no_button_offers_are_refused_and_change_nothing(assistant):
    visitor = started(assistant)
    for text in (
        "/restart",
        "/session_start",
        "/eligible",
        '/eligible{"screening_outcome": "eligible_for_consultation"}',
        "/back",
    ):
        assert visitor.replies(text) == guard.COMMAND_REPLY, text
    slots = visitor.tracker()["slots"]
    assert slots["consent_given"] is True  # /restart did not wipe the conversation
    assert visitor.user_texts() == ["hi", "yes"]
    assert not any(e["event"] == "restart" for e in visitor.tracker()["events"])


def test_forged_payloads_and_buttons_never_offered_set_no_answer_or_outcome(assistant):
    visitor = started(assistant)
    forged = [
        '/inform{"option": "never"}',  # a real option, of another question
        '/inform{"screening_outcome": "eligible_for_consultation", "rf_emergency": "none"}',
        '/inform{"option": "none", "extra": [1, 2, {"x": null}]}',
        '/inform{"option": 12}',
        "/inform{not json",
        "/affirm",
    ]
    for text in forged:
        replies = visitor.say(text).json()
        assert replies, text
    slots = visitor.tracker()["slots"]
    assert slots["screening_outcome"] is None
    # unusable replies leave a question unanswered or, asked again, "unsure" (and a question
    # that does not apply is "not_asked"): never a value a payload claimed
    assert all(slots[q] in (None, "unsure", "not_asked") for q in ANSWER_SLOTS), {
        q: slots[q] for q in ANSWER_SLOTS if slots[q]
    }
    assert slots["rf_emergency"] == "unsure"  # two unusable replies to it: unsure, never "none"
    assert_intact(visitor.tracker())


# ---- malformed requests at the webhook ----------------------------------------------------


WEB_ID = "web-" + "0123456789abcdef01234567"  # a well-formed id, for bodies wrong elsewhere


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b"null",
        b'"hi"',
        {"message": "hi"},
        {"sender": "", "message": "hi"},
        {"sender": 42, "message": "hi"},
        {"sender": "x" * 500, "message": "hi"},
        {"sender": "../etc/passwd", "message": "hi"},
        {"sender": "web-1", "message": "hi"},
        {"sender": WEB_ID},
        {"sender": WEB_ID, "message": 7},
        {"sender": WEB_ID, "message": None},
        {"sender": WEB_ID, "message": "hi", "metadata": [1]},
    ],
)
def test_malformed_bodies_get_a_400_with_a_clear_message(assistant, body):
    response = Visitor(assistant).post(body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert 10 < len(message) < 200 and "Traceback" not in response.text


def test_invalid_utf8_in_the_message_is_a_400(assistant):
    visitor = Visitor(assistant)
    response = visitor.post(f'{{"sender": "{visitor.sender}", "message": "caf'.encode() + b'\xe9"}')
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]
    assert not [e for e in visitor.tracker()["events"] if e["event"] == "user"]


def test_huge_body_is_a_413_and_the_server_keeps_working(assistant):
    visitor = Visitor(assistant)
    huge = json.dumps({"sender": visitor.sender, "message": "x" * 2_000_000}).encode()
    response = visitor.post(huge)
    assert response.status_code == 413 and "too large" in response.json()["error"]
    assert CONSENT_QUESTION in visitor.replies("hi")
    assert visitor.user_texts() == ["hi"]


# ---- many messages from one sender ------------------------------------------------------

QUESTIONS = [
    "how long does it last?",
    "what are the side effects?",
    "how much does it cost?",
    "are you a bot?",
    "who does the injections?",
    "what does the procedure involve?",
    "are there alternatives?",
    "how does botox help jaw pain?",
    "can I book a consultation?",
    "how long does it take to work?",
]


def test_ten_messages_at_once_are_all_answered_in_order_none_dropped(assistant):
    visitor = started(assistant)
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        responses = list(pool.map(lambda q: visitor.post({"sender": visitor.sender, "message": q}), QUESTIONS))
    assert [r.status_code for r in responses] == [200] * len(QUESTIONS)
    answers = {q: [m.get("text") for m in r.json()] for q, r in zip(QUESTIONS, responses, strict=True)}
    assert all(answers.values())

    events = assert_intact(visitor.tracker())
    turns, current = [], None  # each user message with the bot messages that followed it
    for event in events:
        if event["event"] == "user":
            current = (event["text"], [])
            turns.append(current)
        elif event["event"] == "bot" and current:
            current[1].append(event.get("text"))
    concurrent = turns[2:]
    assert sorted(t for t, _ in concurrent) == sorted(QUESTIONS)  # all ten, none twice
    # processed one at a time: each request got exactly the bot turn stored after its message
    assert all(answers[text] == bot for text, bot in concurrent)


def test_per_sender_rate_limit_then_accepted_again(assistant):
    visitor = Visitor(assistant)
    burst = SENDER_BURST + 8
    with ThreadPoolExecutor(burst) as pool:
        responses = list(pool.map(lambda n: visitor.post({"sender": visitor.sender, "message": "hi"}), range(burst)))
    statuses = [r.status_code for r in responses]
    limited = [r for r in responses if r.status_code == 429]
    assert set(statuses) == {200, 429} and limited
    assert all(r.json()["error"] == RATE_LIMIT_REPLY and int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert len(visitor.user_texts()) == statuses.count(200)  # refused ones were not processed
    time.sleep(int(limited[0].headers["Retry-After"]) + 1)
    assert visitor.say("hi").status_code == 200


def test_per_ip_rate_limit_across_senders(assistant):
    ip = "203.0.113.77"
    statuses = []
    for _ in range(IP_BURST + 20):  # empty messages: answered by the guard, quickly
        statuses.append(
            requests.post(
                f"{assistant.url}/webhooks/rest/webhook",
                timeout=30,
                json={"sender": new_web_sender(), "message": ""},
                headers={"X-Forwarded-For": ip},
            ).status_code
        )
    assert statuses[:10] == [200] * 10 and 429 in statuses
    # another visitor is not affected
    assert Visitor(assistant).post({"sender": new_web_sender(), "message": ""}).status_code == 200


# ---- CORS ------------------------------------------------------------------------------


def test_cors_only_for_the_configured_clinic_origin(assistant):
    url = f"{assistant.url}/webhooks/rest/webhook"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = requests.options(url, headers={"Origin": CLINIC_ORIGIN, **preflight}, timeout=30)
    other = requests.options(url, headers={"Origin": "https://evil.example", **preflight}, timeout=30)
    assert allowed.headers.get("Access-Control-Allow-Origin") == CLINIC_ORIGIN
    assert "Access-Control-Allow-Origin" not in other.headers
    body = {"sender": new_web_sender(), "message": ""}
    ok = requests.post(
        url, json=body, headers={"Origin": CLINIC_ORIGIN, "X-Forwarded-For": "198.51.100.250"}, timeout=30
    )
    foreign = requests.post(
        url, json=body, headers={"Origin": "https://evil.example", "X-Forwarded-For": "198.51.100.250"}, timeout=30
    )
    assert ok.headers.get("Access-Control-Allow-Origin") == CLINIC_ORIGIN
    assert "Access-Control-Allow-Origin" not in foreign.headers
    # a refusal is readable by the clinic's page too, so the widget can show its message
    refused = requests.post(
        url, data=b"{", headers={"Origin": CLINIC_ORIGIN, "X-Forwarded-For": "198.51.100.250"}, timeout=30
    )
    assert refused.status_code == 400 and refused.headers.get("Access-Control-Allow-Origin") == CLINIC_ORIGIN


def test_health_and_the_rasa_api_still_work(assistant):
    assert requests.get(f"{assistant.url}/webhooks/rest/", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{assistant.url}/", timeout=30).status_code == 200
    assert requests.get(f"{assistant.url}/status", timeout=30).status_code == 401  # token needed


# ---- the same text cases over the signed SMS and Telegram webhooks ----------------------

_numbers = itertools.count(500)

CHANNEL_CASES = [
    ("\x00\x07", guard.EMPTY_REPLY),
    ("😀 👍", guard.NO_WORDS_REPLY),
    ("x" * 10_000, "keep it short"),
    ("Me duele la mandíbula cuando como", guard.NOT_ENGLISH_REPLY),
    ("/restart", guard.COMMAND_REPLY),
]


def user_texts(assistant, sender):
    return [e["text"] for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def sms_patient(assistant, standin):
    return TwilioConversation(assistant, standin, TwilioPatient(f"+447700900{next(_numbers):03d}"))


def telegram_patient(assistant, standin):
    return TelegramConversation(assistant, standin, TelegramPatient(910_000_000 + next(_numbers)))


@pytest.mark.parametrize("make", [sms_patient, telegram_patient], ids=["sms", "telegram"])
def test_bad_text_over_the_messaging_channels(assistant, standin, make):
    conversation = make(assistant, standin)
    conversation.say("hi")
    conversation.say("yes")
    assert SAFETY_QUESTION in conversation.text
    for text, reply in CHANNEL_CASES:  # answered by the channel: nothing reaches the assistant
        conversation.say(text)
        assert reply in conversation.text, (text, conversation.text)
    conversation.say("none of these")
    assert assistant.tracker(conversation.sender)["slots"]["rf_emergency"] == "none"
    users_before = len(user_texts(assistant, conversation.sender))
    sent = [
        "<script>alert(1)</script>",
        "'; DROP TABLE events;--",
        '/inform{"option": "none", "screening_outcome": "eligible_for_consultation"}',
        "40 👍",
    ]
    for text in sent:  # reach the assistant, which answers as to any unclear reply
        conversation.say(text)
        assert conversation.replies, text
    tracker = assistant.tracker(conversation.sender)
    assert_intact(tracker)
    users = user_texts(assistant, conversation.sender)
    assert users_before == 3  # hi, yes, none of these: none of the refused texts was stored
    assert users[users_before:] == sent  # in order, none lost, none added


def test_after_all_of_it_no_traceback_was_logged_and_the_server_still_answers(assistant):
    # runs last in this module: every bad input above went through this one server
    assert CONSENT_QUESTION in Visitor(assistant).replies("hi")
    for log in ("rasa.log", "actions.log"):
        text = (assistant.workdir / log).read_text(errors="replace")
        assert "Traceback" not in text, f"{log}:\n{text[-3000:]}"
