"""Faults injected into the embedded set-up (SQLite tracker store): the action server killed
or slow mid-questionnaire, and the Rasa server killed mid-turn. In every case the patient
either gets the normal next question or a short apology, the stored conversation holds
exactly the turns that completed, and the screening finishes with every answer.

The action server is reached through a TcpProxy, so the test can refuse connections (as a
dead server does) or hold them (a slow server)."""

import threading
import time

import pytest
import requests

from tests.faults.conversation_checks import apologised, completed_turns, payload_of, user_texts
from tests.faults.harness import FaultyAssistant, sqlite_tracker_store
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, current_question, start

pytestmark = pytest.mark.e2e

ACTION_TIMEOUT = 6  # seconds, set in this test's endpoints.yml (endpoints.yml says 12)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("faults")
    running = FaultyAssistant(workdir, sqlite_tracker_store(workdir), action_timeout=ACTION_TIMEOUT)
    running.start_actions()
    running.start_rasa()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def healthy_again(assistant):
    """Whatever a test broke is mended for the next one."""
    yield
    assistant.action_proxy.delay_seconds = 0
    assistant.action_proxy.accept()
    if assistant.processes["actions"].poll() is not None:
        assistant.start_actions()
    if assistant.processes["rasa"].poll() is not None:
        assistant.start_rasa()


def stop_action_server(assistant):
    assistant.kill("actions")
    assistant.action_proxy.refuse()  # Rasa's connection is refused, as with no proxy


def restart_action_server(assistant):
    assistant.start_actions()
    assistant.action_proxy.accept()


def finish_and_check(assistant, conversation):
    answer_questions(conversation)
    if not apologised(conversation):  # after an apology its buttons are the summary's
        assert "Here is a summary of your answers" in conversation.text, conversation.dump()
    conversation.tap("Yes, that's right")
    assert "Nothing in this screening rules the treatment out" in conversation.text, conversation.dump()
    tracker = assistant.tracker(conversation.sender)
    slots = tracker["slots"]
    assert slots["screening_outcome"] == "eligible_for_consultation"
    assert (slots["rf_emergency"], slots["patient_age"], slots["rf_locked_jaw"]) == ("none", 34, "no")
    assert slots["tmd_screener_score"] == 5
    # every completed turn stored once, in order; no failed one stored at all
    assert user_texts(tracker["events"]) == completed_turns(conversation)


def test_action_server_down_mid_questionnaire_apologises_keeps_state_and_continues(assistant):
    conversation = Conversation(assistant)
    start(conversation)
    conversation.tap("None of these")
    conversation.say("I'm 34")
    assert current_question(conversation) == "rf_locked_jaw"

    stop_action_server(assistant)
    conversation.say("no")
    assert apologised(conversation), conversation.dump()
    assert "call 999" in conversation.text
    slots = assistant.tracker(conversation.sender)["slots"]
    assert slots["requested_slot"] == "rf_locked_jaw" and slots["rf_locked_jaw"] is None
    assert slots["screening_outcome"] is None and slots["patient_age"] == 34
    assert "action server unreachable" in assistant.log("rasa")

    restart_action_server(assistant)
    conversation.say("no")  # the same answer again, as the apology asked
    assert current_question(conversation) == "rf_abscess", conversation.dump()
    answer_questions(conversation)

    # down again exactly when the outcome is due: no outcome may be given or recorded
    stop_action_server(assistant)
    conversation.tap("Yes, that's right")
    assert apologised(conversation), conversation.dump()
    assert "Yes, that's right" in conversation.buttons()  # the summary's buttons, offered again
    slots = assistant.tracker(conversation.sender)["slots"]
    assert slots["screening_outcome"] is None and not slots["screening_reasons"]
    assert slots["screening_status"] == "awaiting_confirmation"

    restart_action_server(assistant)
    finish_and_check(assistant, conversation)  # the patient taps "Yes, that's right" again


def test_an_emergency_while_the_action_server_is_down_gets_the_emergency_advice_first(assistant):
    conversation = Conversation(assistant)
    start(conversation)
    stop_action_server(assistant)
    try:
        conversation.say("I have crushing chest pain")
        text = conversation.text
        assert "call 999 now" in text and "Sorry, something went wrong" in text, conversation.dump()
        assert text.index("call 999 now") < text.index("Sorry, something went wrong")
        assert any(r.get("custom", {}).get("level") == "emergency" for r in conversation.replies)
        assert assistant.tracker(conversation.sender)["slots"]["rf_emergency"] is None  # nothing stored
    finally:
        restart_action_server(assistant)


def test_slow_action_server_gets_an_apology_within_the_timeout_then_continues(assistant):
    conversation = Conversation(assistant)
    start(conversation)
    conversation.tap("None of these")

    assistant.action_proxy.delay_seconds = ACTION_TIMEOUT * 4
    conversation.say("I'm 34")
    assert apologised(conversation), conversation.dump()
    slots = assistant.tracker(conversation.sender)["slots"]
    assert slots["patient_age"] is None and slots["requested_slot"] == "patient_age"
    assert f"did not answer within {ACTION_TIMEOUT}s" in assistant.log("rasa")

    assistant.action_proxy.delay_seconds = 0
    conversation.say("I'm 34")
    assert current_question(conversation) == "rf_locked_jaw", conversation.dump()
    finish_and_check(assistant, conversation)


def test_rasa_killed_mid_turn_then_restarted_continues_at_the_same_question(assistant):
    conversation = Conversation(assistant)
    start(conversation)
    conversation.tap("None of these")
    conversation.say("I'm 34")
    conversation.say("no")
    assert current_question(conversation) == "rf_abscess"
    question = conversation.replies
    no_abscess = payload_of(question, "No")

    # The crash comes while Rasa is inside the turn, waiting for the action server.
    assistant.action_proxy.delay_seconds = ACTION_TIMEOUT * 4
    seen = assistant.action_proxy.connections_accepted
    failures = []

    def send():
        try:
            requests.post(
                f"{assistant.url}/webhooks/rest/webhook",
                json={"sender": conversation.sender, "message": no_abscess},
                timeout=60,
            )
        except requests.RequestException as error:
            failures.append(error)

    in_flight = threading.Thread(target=send)
    in_flight.start()
    deadline = time.time() + 60
    while assistant.action_proxy.connections_accepted == seen and time.time() < deadline:
        time.sleep(0.1)
    assert assistant.action_proxy.connections_accepted > seen, "the turn never reached the action server"
    assistant.kill("rasa")
    in_flight.join(timeout=60)
    assert failures, "the request in flight should have failed with the server"

    assistant.action_proxy.delay_seconds = 0
    assistant.start_rasa()
    slots = assistant.tracker(conversation.sender)["slots"]
    assert slots["requested_slot"] == "rf_abscess" and slots["rf_abscess"] is None
    conversation.replies = question  # the patient taps "No" again
    conversation.tap("No")
    assert current_question(conversation) == "rf_systemic", conversation.dump()
    finish_and_check(assistant, conversation)
