"""The action server killed mid-questionnaire, over SMS (Twilio) and Telegram: the patient
gets the apology with the question's options again, in the platform's own form (numbered
options, a keyboard), and continues with them once the server is back. The fault handling
lives in the Rasa server, not in a channel; this checks that the channels carry it.

Uses the stand-in platforms of tests/support/ (standin.py, platforms.py)."""

import itertools
import os
import subprocess

import pytest

from tests.faults.conversation_checks import APOLOGY_START, user_texts
from tests.support.platforms import TelegramPatient, TwilioPatient, channels_env
from tests.support.screening import current_question, start
from tests.support.servers import ACTION_SERVER, ROOT, start_assistant, wait_until_up
from tests.support.standin import StandIn
from tests.support.text_conversations import TelegramConversation, TwilioConversation

pytestmark = pytest.mark.e2e

_patients = itertools.count(500)


@pytest.fixture(scope="module")
def standin():
    with StandIn() as running:
        yield running


@pytest.fixture(scope="module")
def assistant(standin, tmp_path_factory):
    env = channels_env(standin.url)
    running = start_assistant(
        tmp_path_factory.mktemp("channel-faults"), env, credentials=ROOT / "credentials.channels.yml"
    )
    running.env = env
    yield running
    running.stop()


def kill_action_server(assistant):
    assistant.processes["actions"].kill()
    assistant.processes["actions"].wait(timeout=20)


def restart_action_server(assistant):
    port = assistant.action_url.rsplit(":", 1)[1]
    log = assistant.workdir / "actions.log"
    assistant.processes["actions"] = subprocess.Popen(
        [*ACTION_SERVER, "--port", port, "--actions", "actions"],
        cwd=ROOT,
        env={**os.environ, "CONSULTATION_DB_URL": assistant.consultation_db_url, **assistant.env},
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    wait_until_up(f"{assistant.action_url}/health", assistant.processes["actions"], log)


def answer_through_an_outage(assistant, conversation):
    start(conversation)
    conversation.tap("None of these")
    conversation.say("I'm 34")
    assert current_question(conversation) == "rf_locked_jaw", conversation.dump()
    stored_before = user_texts(assistant.tracker(conversation.sender)["events"])

    kill_action_server(assistant)
    try:
        conversation.tap("No")
        assert APOLOGY_START in conversation.text, conversation.dump()
        assert "No" in conversation.buttons()  # the question's options, offered again
        slots = assistant.tracker(conversation.sender)["slots"]
        assert slots["requested_slot"] == "rf_locked_jaw" and slots["rf_locked_jaw"] is None
        assert user_texts(assistant.tracker(conversation.sender)["events"]) == stored_before
    finally:
        restart_action_server(assistant)

    conversation.tap("No")  # the same option, from the apology's offer
    assert current_question(conversation) == "rf_abscess", conversation.dump()
    assert assistant.tracker(conversation.sender)["slots"]["rf_locked_jaw"] == "no"


def test_sms_patient_gets_the_apology_with_numbered_options_and_continues(assistant, standin):
    conversation = TwilioConversation(
        assistant, standin, TwilioPatient(f"+447700900{next(_patients):03d}"), tap_by="number"
    )
    answer_through_an_outage(assistant, conversation)


def test_telegram_patient_gets_the_apology_with_a_keyboard_and_continues(assistant, standin):
    conversation = TelegramConversation(assistant, standin, TelegramPatient(900_000_000 + next(_patients)))
    answer_through_an_outage(assistant, conversation)
