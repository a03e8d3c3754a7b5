"""Issue 26, end to end: a conversation belongs to one person on one channel, and a request
body is bounded before Rasa sees it. The trained assistant runs with the guarded REST
channel and the signed Twilio / Telegram webhooks (stand-in platform APIs), as deployed.

Each test is one of the issue's reproductions, which passed through before the fix:
- the web chat reading an SMS patient's answers by naming their phone number;
- 60 KB of metadata stored twice over; metadata nested 600 deep storing a half-turn and
  writing about 2,000 log lines; 1,000 "[" then 1,000 "]" answered with a 500;
and a bounded fuzz run of malformed bodies: no 500, nothing stored, no log flood."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
import requests

from channels.sender_ids import new_web_sender
from tests.support.malformed_bodies import malformed, oversized_metadata
from tests.support.platforms import TelegramPatient, TwilioPatient, channels_env
from tests.support.servers import ROOT, start_assistant
from tests.support.standin import StandIn
from tests.support.text_conversations import TelegramConversation, TwilioConversation

pytestmark = pytest.mark.e2e

FUZZ_BODIES = 200
FUZZ_SECONDS = 60  # far above what it takes (a few seconds): a hang fails, not a slow machine
SAFETY_QUESTION = "First, a few safety questions"
RASAS_OWN_METADATA = {"assistant_id", "model_id"}  # Rasa 3.6 adds these to every user event


@pytest.fixture(scope="module")
def standin():
    with StandIn() as running:
        yield running


@pytest.fixture(scope="module")
def assistant(standin, tmp_path_factory):
    # Every channel, as a clinic with SMS and Telegram runs them, with throw-away secrets.
    env = channels_env(standin.url)
    running = start_assistant(tmp_path_factory.mktemp("boundaries"), env, credentials=ROOT / "credentials.channels.yml")
    yield running
    running.stop()


def post(assistant, body) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{assistant.url}/webhooks/rest/webhook", data=data, headers={"Content-Type": "application/json"}, timeout=60
    )


class Store:
    """What the tracker store holds (every conversation) and what the servers have logged."""

    def __init__(self, assistant) -> None:
        self.assistant = assistant

    def events(self) -> tuple[int, int]:
        with sqlite3.connect(self.assistant.workdir / "rasa.db") as db:
            return db.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM events").fetchone()

    def log(self) -> str:
        return "".join(
            (self.assistant.workdir / name).read_text(errors="replace") for name in ("rasa.log", "actions.log")
        )


def settled(store: Store) -> tuple[tuple[int, int], int]:
    time.sleep(0.5)  # the previous turn's last event and log line
    return store.events(), len(store.log().splitlines())


# ---- one channel cannot name another's conversation ----------------------------------------


def started_elsewhere(assistant, standin, make):
    """A patient on SMS or Telegram who has consented and answered two health questions."""
    conversation = make(assistant, standin)
    conversation.say("hi")
    conversation.say("yes")
    assert SAFETY_QUESTION in conversation.text, conversation.dump()
    conversation.say("none of these")
    conversation.say("I'm 40")
    assert assistant.tracker(conversation.sender)["slots"]["patient_age"] == 40
    return conversation


def sms(assistant, standin):
    return TwilioConversation(assistant, standin, TwilioPatient("+447700900123"))


def whatsapp(assistant, standin):
    return TwilioConversation(assistant, standin, TwilioPatient("+447700900124", whatsapp=True))


def telegram(assistant, standin):
    return TelegramConversation(assistant, standin, TelegramPatient(900_000_026))


@pytest.mark.parametrize("make", [sms, whatsapp, telegram], ids=["sms", "whatsapp", "telegram"])
def test_the_web_chat_cannot_read_or_change_another_channels_conversation(assistant, standin, make):
    patient = started_elsewhere(assistant, standin, make)
    before = assistant.tracker(patient.sender)
    # The reproduction: before, the first of these returned the patient's summary.
    for text in ("I want to change an answer", "/deny", "what did I answer?"):
        response = post(assistant, {"sender": patient.sender, "message": text})
        assert response.status_code == 400, (response.status_code, response.text[:300])
        assert set(response.json()) == {"error"} and "web-" in response.json()["error"]
    after = assistant.tracker(patient.sender)
    assert after["events"] == before["events"]  # nothing read into a reply, nothing added
    patient.say("no")  # the patient's own channel still works, at the same question
    assert assistant.tracker(patient.sender)["slots"]["rf_locked_jaw"] == "no"


def test_a_web_conversation_uses_the_widgets_form_of_id(assistant):
    sender = new_web_sender()
    response = post(assistant, {"sender": sender, "message": "hi"})
    assert response.status_code == 200 and response.json()[0]["recipient_id"] == sender


# ---- request bodies are bounded before Rasa sees them --------------------------------------


def test_a_thousand_brackets_are_a_400_not_a_500_and_log_nothing(assistant):
    store = Store(assistant)
    stored, lines = settled(store)
    response = post(assistant, b"[" * 1000 + b"]" * 1000)
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]
    assert settled(store) == (stored, lines)  # before: a 500 and a 17-line RecursionError traceback
    assert "RecursionError" not in store.log()


@pytest.mark.parametrize("body", oversized_metadata()[:2], ids=["60 KB", "600 deep"])
def test_oversized_metadata_is_refused_and_stores_and_logs_nothing(assistant, body):
    store = Store(assistant)
    sender = json.loads(body)["sender"]
    assert post(assistant, {"sender": sender, "message": "hi"}).status_code == 200
    stored, lines = settled(store)
    response = post(assistant, body)
    # before: 200, 123 KB stored (60 KB); 200, a stored half-turn and 1,955 log lines (600 deep)
    assert response.status_code == 400, response.text[:300]
    assert any(words in response.json()["error"] for words in ('"metadata" is too large', "nested too deeply"))
    assert settled(store) == (stored, lines)


def test_metadata_keys_the_project_does_not_read_never_reach_the_tracker(assistant):
    sender = new_web_sender()
    metadata = {"page": "/treatment", "campaign": "spring", "input_channel": "twilio_verified"}
    response = post(assistant, {"sender": sender, "message": "hi", "metadata": metadata})
    assert response.status_code == 200 and response.json()
    tracker = assistant.tracker(sender)
    [user] = [e for e in tracker["events"] if e["event"] == "user"]
    assert user["input_channel"] == "rest"
    assert set(user.get("metadata") or {}) <= RASAS_OWN_METADATA
    assert not tracker["slots"].get("session_started_metadata")
    assert "spring" not in json.dumps(tracker)


# ---- a bounded fuzz run ---------------------------------------------------------------------


def test_malformed_bodies_fuzz_no_500_nothing_stored_no_log_flood(assistant):
    bodies = malformed(seed=26, count=FUZZ_BODIES)
    assert len(bodies) == FUZZ_BODIES
    store = Store(assistant)
    stored, lines = settled(store)
    started = time.monotonic()
    statuses = [post(assistant, body).status_code for body in bodies]
    elapsed = time.monotonic() - started
    assert elapsed < FUZZ_SECONDS
    assert set(statuses) <= {400, 413}, sorted(set(statuses))  # never a 500, never a 200
    events, grown = settled(store)
    assert events == stored  # no user event, no half-turn
    assert grown - lines <= len(bodies)  # at most a line a request (today: none)
    assert "Traceback" not in store.log()
    # the server still answers
    assert post(assistant, {"sender": new_web_sender(), "message": "hi"}).status_code == 200
