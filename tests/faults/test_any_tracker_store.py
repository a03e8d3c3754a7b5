"""The fault handling is a server extension (serving/extensions.py), not part of our tracker
store: with Rasa's own SQLTrackerStore or its in-memory store configured instead, a patient
whose turn fails because the action server is down still gets the apology, nothing of the
turn is stored, and the same answer works once the server is back. The start-up log says
that such a store does not ride out database outages."""

import pytest

from tests.faults.conversation_checks import apologised
from tests.faults.harness import FaultyAssistant, sqlite_tracker_store
from tests.support.conversation import Conversation
from tests.support.screening import current_question, start

pytestmark = pytest.mark.e2e

STORES = {
    "stock SQLTrackerStore": lambda workdir: sqlite_tracker_store(workdir, "SQL"),
    "in-memory tracker store": lambda workdir: "  type: null\n",  # Rasa's default: InMemoryTrackerStore
}


@pytest.mark.parametrize("store", list(STORES))
def test_the_apology_on_an_action_server_fault_does_not_depend_on_the_tracker_store(store, tmp_path):
    assistant = FaultyAssistant(tmp_path, STORES[store](tmp_path), action_timeout=6)
    try:
        assistant.start_actions()
        assistant.start_rasa()
        log = assistant.log("rasa")
        assert "server extension installed: fault handling (serving/fault_handling.py)" in log, log[-3000:]
        assert "server extension not in use: resilient tracker store (serving/tracker_store.py)" in log
        assert "action-server faults still get the apology" in log

        conversation = Conversation(assistant)
        start(conversation)
        conversation.tap("None of these")
        conversation.say("I'm 34")
        assert current_question(conversation) == "rf_locked_jaw", conversation.dump()

        assistant.kill("actions")
        assistant.action_proxy.refuse()
        conversation.say("no")
        assert apologised(conversation), conversation.dump()
        slots = assistant.tracker(conversation.sender)["slots"]
        assert slots["requested_slot"] == "rf_locked_jaw" and slots["rf_locked_jaw"] is None
        assert "Turn not completed for conversation" in assistant.log("rasa")

        assistant.start_actions()
        assistant.action_proxy.accept()
        conversation.say("no")  # the same answer again, as the apology asked
        assert current_question(conversation) == "rf_abscess", conversation.dump()
    finally:
        assistant.stop()
