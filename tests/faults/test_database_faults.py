"""PostgreSQL faults, injected with a TcpProxy between the servers and the real PostgreSQL
(which is shared and never touched): unreachable at start-up, and "restarted" (every open
connection severed, new ones refused for a few seconds) mid-conversation. Each test has a
database of its own, dropped afterwards."""

import json
import threading

import psycopg2
import pytest

from tests.faults.conversation_checks import APOLOGY_START, completed_turns, user_texts
from tests.faults.harness import FaultyAssistant, postgres_tracker_store
from tests.faults.postgres import PG, fresh_database, stored_events, unavailable_reason
from tests.faults.tcp_proxy import TcpProxy
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, current_question, start

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

RESTART_SECONDS = 3  # how long the "restarting" database refuses connections


@pytest.fixture(autouse=True)
def needs_postgres():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def database():
    with fresh_database() as name:
        yield name


@pytest.fixture
def proxies():
    made = []

    def make(listening=True):
        made.append(TcpProxy(PG["host"], PG["port"], listening=listening))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def essence(event):
    return (event["event"], event.get("timestamp"), event.get("text"), event.get("name"), event.get("value"))


def restart(proxy, seconds=RESTART_SECONDS):
    """Severs every connection and refuses new ones for a few seconds, in the background."""
    proxy.refuse()
    threading.Timer(seconds, proxy.accept).start()


def test_database_unreachable_at_start_up_is_waited_for_with_clear_retries(tmp_path, database, proxies):
    tracker_db = proxies(listening=False)
    assistant = FaultyAssistant(tmp_path, postgres_tracker_store(tracker_db.address, database, PG["user"]))
    try:
        assistant.start_actions()
        assistant.start_rasa(wait=False)
        assistant.wait_for_log(
            "rasa", f"Tracker store database at {tracker_db.address} not reachable at start-up", count=2
        )
        tracker_db.accept()
        assistant.wait_rasa()
        assert "reachable again after" in assistant.log("rasa")

        conversation = Conversation(assistant)
        start(conversation)
        conversation.tap("None of these")
        assert current_question(conversation) == "patient_age", conversation.dump()
        assert user_texts(stored_events(database, conversation.sender)) == completed_turns(conversation)
    finally:
        assistant.stop()


def test_database_restarted_mid_conversation_loses_and_duplicates_nothing(tmp_path, database, proxies):
    tracker_db, consultation_db = proxies(), proxies()
    assistant = FaultyAssistant(
        tmp_path,
        postgres_tracker_store(tracker_db.address, database, PG["user"]),
        extra_env={"CONSULTATION_DB_URL": f"postgresql://{PG['user']}@{consultation_db.address}/{database}"},
    )
    try:
        assistant.start_actions()
        assistant.start_rasa()
        conversation = Conversation(assistant)
        start(conversation)
        conversation.tap("None of these")
        conversation.say("I'm 34")

        restart(tracker_db)  # the next message arrives while the database restarts
        conversation.say("no")
        assert current_question(conversation) == "rf_abscess", conversation.dump()
        assert "Tracker store database unreachable during read" in assistant.log("rasa")

        tracker_db.sever()  # between two messages: the pooled connections are dead
        answer_questions(conversation)
        conversation.tap("Yes, that's right")
        assert "Nothing in this screening rules the treatment out" in conversation.text, conversation.dump()

        conversation.tap("Yes, please")
        conversation.say("My name is Sam Example")
        conversation.say("sam@example.org")
        conversation.tap("Weekday mornings")
        restart(consultation_db, seconds=2)  # the action server's database restarts too
        conversation.tap("Yes")
        assert "Your request has been passed to" in conversation.text, conversation.dump()
        assert "Consultation database unreachable" in assistant.log("actions")

        assert not any(line.startswith(f"BOT: {APOLOGY_START}") for line in conversation.transcript)
        stored = stored_events(database, conversation.sender)
        served = assistant.tracker(conversation.sender)["events"]
        assert [essence(e) for e in stored] == [essence(e) for e in served]  # event for event
        assert len({json.dumps(e, sort_keys=True) for e in stored}) == len(stored)  # no duplicate
        assert user_texts(stored) == completed_turns(conversation)  # no turn lost
        assert assistant.tracker(conversation.sender)["slots"]["consultation_requested"] is True

        conn = psycopg2.connect(dbname=database, **PG)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM consultation_requests WHERE conversation_id = %s", (conversation.sender,))
            assert cur.fetchone()[0] == 1
        conn.close()
    finally:
        assistant.stop()
