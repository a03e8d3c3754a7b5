"""The fault handling's parts, without servers: the Rasa internals it relies on are the ones
it was written against, retries never duplicate events, logs never carry patient text."""

import asyncio
import hashlib
import inspect

import pytest
import rasa
import sqlalchemy.exc
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.taps import tag_questions
from channels.turns import KeepsCustomWithText
from clinical import consultation_store
from clinical.offered_buttons import BUTTONS_OF, message_id
from serving import fault_handling
from serving.tracker_store import ResilientSQLTrackerStore, TrackerStoreUnavailable, backoff_delays, describe

# The Rasa 3.6.21 code that serving/fault_handling.py and serving/tracker_store.py wrap or
# rely on. If one of these changes (a Rasa upgrade), re-read it: does _run_action still
# swallow action errors, FailSafeTrackerStore still fall back through its callbacks, save
# still store only the events beyond the stored count? Then update the hash.
RELIED_ON = {
    RemoteAction.run: "ccabf6f1160d527a",
    MessageProcessor._run_action: "6d383d0179ef1187",
    MessageProcessor.handle_message: "0c41d4780d2d4676",
    FailSafeTrackerStore.on_tracker_store_error: "6faca7ba72b36da4",
    FailSafeTrackerStore.on_tracker_store_retrieve_error: "162b49564c52ab49",
    FailSafeTrackerStore.retrieve: "35d77318b0cc7977",
    FailSafeTrackerStore.save: "8426dc08f58d7110",
    SQLTrackerStore.save: "57165e46eab3de08",
    SQLTrackerStore._additional_events: "d22f99eb863acb07",
    SQLTrackerStore.__init__: "64e704d159dfa35b",
}


@pytest.mark.parametrize("function", list(RELIED_ON), ids=lambda f: inspect.unwrap(f).__qualname__)
def test_the_rasa_internals_we_wrap_are_unchanged(function):
    source = inspect.getsource(inspect.unwrap(function))
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == RELIED_ON[function]


def test_install_is_idempotent_and_refuses_another_rasa_version(monkeypatch):
    fault_handling.install()
    fault_handling.install()
    for owner, name, _ in fault_handling._PATCHES:
        wrapped = getattr(owner, name)
        assert wrapped._screening_fault_handling
        assert not getattr(wrapped.__wrapped__, "_screening_fault_handling", False)  # wrapped once
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match="3.6.21"):
        fault_handling.install()


def test_failsafe_store_lets_our_unavailable_error_through_but_keeps_its_fallback_otherwise():
    fault_handling.install()
    failsafe = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    with pytest.raises(TrackerStoreUnavailable):
        failsafe.on_tracker_store_retrieve_error(TrackerStoreUnavailable("down"))
    with pytest.raises(TrackerStoreUnavailable):
        failsafe.on_tracker_store_error(TrackerStoreUnavailable("down"))
    failsafe.on_tracker_store_error(ValueError("other"))  # Rasa's behaviour: logged only


def test_a_logged_fault_never_includes_the_sql_parameters():
    error = sqlalchemy.exc.OperationalError(
        "INSERT INTO events (data) VALUES (%(data)s)",
        {"data": "I take warfarin"},
        Exception("server closed the connection unexpectedly\n\tThis probably means..."),
    )
    text = describe(error)
    assert text == "Exception: server closed the connection unexpectedly"
    assert "warfarin" not in text and "INSERT" not in text


def test_backoff_doubles_up_to_a_cap_and_stays_within_the_budget():
    now = [0.0]
    delays = []
    for delay in backoff_delays(20, clock=lambda: now[0]):
        delays.append(delay)
        now[0] += delay
    assert delays == [0.5, 1, 2, 4, 5, 5]
    assert sum(delays) <= 20


def tracker_with_turns(sender, turns):
    tracker = DialogueStateTracker(sender, [])
    for text in turns:
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(text))
        tracker.update(SlotSet("requested_slot", "rf_nerve"))
    return tracker


@pytest.fixture
def store(tmp_path):
    fast = ResilientSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"), retry_seconds=3)
    yield fast
    fast.engine.dispose()


def test_a_write_retried_after_a_lost_acknowledgement_stores_each_event_once(store, monkeypatch):
    tracker = tracker_with_turns("p1", ["hi", "yes"])
    real = ResilientSQLTrackerStore._store_new_events
    calls = []

    async def commit_then_lose_the_connection(self, tracker):
        calls.append(1)
        await real(self, tracker)
        if len(calls) == 1:
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("connection reset"))

    monkeypatch.setattr(ResilientSQLTrackerStore, "_store_new_events", commit_then_lose_the_connection)
    asyncio.run(store.save(tracker))
    assert len(calls) == 2
    stored = asyncio.run(store.retrieve("p1"))
    assert [e.as_dict()["event"] for e in stored.events] == [e.as_dict()["event"] for e in tracker.events]


def test_a_read_that_keeps_failing_gives_up_with_our_error(store, monkeypatch):
    async def down(self, sender_id):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(SQLTrackerStore, "retrieve", down)
    with pytest.raises(TrackerStoreUnavailable, match="connection refused"):
        asyncio.run(store.retrieve("p1"))


def test_a_consultation_request_is_stored_once_when_the_database_blinks(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'consultations.db'}"
    real_engine_for, calls = consultation_store.engine_for, []

    def flaky_engine_for(u):
        calls.append(u)
        if len(calls) == 1:
            raise sqlalchemy.exc.OperationalError("connect", {}, Exception("connection refused"))
        return real_engine_for(u)

    monkeypatch.setattr(consultation_store, "engine_for", flaky_engine_for)
    monkeypatch.setattr(consultation_store, "RETRY_DELAYS_SECONDS", (0.01, 0.01))
    consultation_store.save_request(
        "c1", "Sam Example", "sam@example.org", "email", "mornings", "eligible_for_consultation", [], url=url
    )
    assert len(consultation_store.list_requests(url)) == 1


def test_a_retried_consultation_request_finds_the_row_a_lost_commit_stored(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'consultations.db'}"
    engine = consultation_store.engine_for(url)
    original_begin, attempts = engine.begin, []

    class LostAck:  # the first attempt commits, then its acknowledgement is lost
        def __init__(self):
            self.context = original_begin()

        def __enter__(self):
            return self.context.__enter__()

        def __exit__(self, *exc):
            self.context.__exit__(*exc)
            attempts.append(1)
            if len(attempts) == 1:
                raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("connection reset"))

    monkeypatch.setattr(engine, "begin", LostAck)
    monkeypatch.setattr(consultation_store, "RETRY_DELAYS_SECONDS", (0.01,))
    consultation_store.save_request("c2", "Sam Example", "sam@example.org", "email", "mornings", None, [], url=url)
    assert len(attempts) == 2
    assert len(consultation_store.list_requests(url)) == 1


def test_the_same_request_sent_again_after_an_apology_is_stored_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'consultations.db'}"
    request = ("c3", "Sam Example", "sam@example.org", "email", "mornings", "eligible_for_consultation", [])
    first = consultation_store.save_request(*request, url=url)
    assert consultation_store.save_request(*request, url=url) == first
    changed = consultation_store.save_request(
        "c3", "Sam Example", "sam@example.org", "email", "evenings", "eligible_for_consultation", [], url=url
    )
    other_patient = consultation_store.save_request("c4", *request[1:], url=url)
    assert len({first, changed, other_patient}) == 3
    assert len(consultation_store.list_requests(url)) == 3


def run_turn_action(action_endpoint_url, timeout=None):
    """Runs one RemoteAction the way MessageProcessor._run_action does (errors swallowed),
    inside our wrapper; returns what the wrapper made of it."""
    from rasa.utils.endpoints import EndpointConfig

    fault_handling.install()

    async def rasa_like_run_action(processor, action, tracker, output_channel, nlg, prediction):
        try:
            await action.run(output_channel, nlg, tracker, Domain.empty())
        except Exception:  # noqa: BLE001 - what Rasa's _run_action does
            pass
        return True

    wrapped = fault_handling._wrap_run_action(rasa_like_run_action)
    endpoint = EndpointConfig(action_endpoint_url, **({"timeout": timeout} if timeout else {}))
    action = RemoteAction("validate_screening_form", endpoint)
    tracker = DialogueStateTracker("unit", [])
    try:
        return asyncio.run(wrapped(None, action, tracker, None, None, None))
    except fault_handling.TurnAborted as aborted:
        return aborted


@pytest.fixture
def action_server():
    """A stand-in action server: answers 500, 400 (a form's rejection) or not at all."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path.startswith("/slow"):
                threading.Event().wait(5)
                return
            status = 400 if self.path.startswith("/reject") else 500
            body = b'{"action_name": "validate_screening_form", "error": "no"}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_action_server_error_aborts_the_turn(action_server):
    result = run_turn_action(f"{action_server}/crash")
    assert isinstance(result, fault_handling.TurnAborted) and "HTTP 500" in str(result)


def test_a_slow_action_server_aborts_the_turn_after_the_configured_timeout(action_server):
    result = run_turn_action(f"{action_server}/slow", timeout=1)
    assert isinstance(result, fault_handling.TurnAborted) and "did not answer within 1s" in str(result)


def test_a_form_rejection_is_not_a_fault(action_server):
    assert run_turn_action(f"{action_server}/reject") is True


def test_a_missing_sqlite_directory_fails_at_once_instead_of_waiting(tmp_path):
    # only a database server is waited for; a wrong local path is a set-up error
    with pytest.raises(TrackerStoreUnavailable, match="cannot be opened"):
        ResilientSQLTrackerStore(
            Domain.empty(), dialect="sqlite", db=str(tmp_path / "missing" / "rasa.db"), startup_wait_seconds=600
        )


class Collector(CollectingOutputChannel):
    pass


def aborted_turn(fault, stored_events=(), text="no", channel=None):
    """Runs our handle_message around a turn that fails with `fault` after one reply was
    already collected; returns the replies the patient gets."""
    fault_handling.install()
    store = InMemoryTrackerStore(Domain.empty())
    if stored_events:
        asyncio.run(store.save(DialogueStateTracker.from_events("p1", list(stored_events))))

    class Processor:
        tracker_store = FailSafeTrackerStore(store)

    async def failing_turn(processor, message):
        await message.output_channel.send_response("p1", {"text": "Half a reply"})
        raise fault

    channel = channel or Collector()
    message = UserMessage(text, channel, "p1")
    return asyncio.run(fault_handling._wrap_handle_message(failing_turn)(Processor(), message))


def test_an_aborted_turn_replaces_its_replies_with_the_apology_and_the_pending_buttons():
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    replies = aborted_turn(
        fault_handling.TurnAborted("action 'x' failed"),
        [
            ActionExecuted("action_listen"),
            UserUttered("I'm 34"),
            BotUttered("Is your jaw locked right now?", {"buttons": buttons}),
            ActionExecuted("action_listen"),
        ],
    )
    assert len(replies) == 1
    assert replies[0]["text"].startswith("Sorry, something went wrong on our side")
    assert "call 999" in replies[0]["text"]
    assert [b["title"] for b in replies[0]["buttons"]] == ["Yes", "No"]


def test_the_reoffered_buttons_name_the_question_they_belong_to():
    """So the REST channel takes a tap on them as an answer to that question, not as a stale
    tap (channels/taps.py): the apology itself is never stored."""
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    stored = [UserUttered("I'm 34"), BotUttered("Is your jaw locked right now?", {"buttons": buttons})]
    [reply] = aborted_turn(fault_handling.TurnAborted("action 'x' failed"), stored, channel=KeepsCustomWithText())
    assert reply["custom"] == {BUTTONS_OF: message_id("Is your jaw locked right now?", buttons)}
    assert tag_questions([reply])[0]["message_id"] == message_id("Is your jaw locked right now?", buttons)


def test_a_database_outage_gets_the_apology_without_buttons():
    replies = aborted_turn(TrackerStoreUnavailable("read"))
    assert len(replies) == 1 and "buttons" not in replies[0]
    assert replies[0]["text"].startswith("Sorry, something went wrong on our side")


def test_an_emergency_in_a_failed_turn_gets_its_advice_before_the_apology():
    replies = aborted_turn(fault_handling.TurnAborted("action 'x' failed"), text="I have crushing chest pain")
    assert "call 999 now" in replies[0]["text"] and replies[-1]["text"].startswith("Sorry, something went wrong")
    alert = next(r["custom"] for r in replies if r.get("custom"))  # the number to tap
    assert alert["level"] == "emergency" and [c["tel"] for c in alert["call"]] == ["999"]


def test_distress_in_a_failed_turn_gets_the_crisis_contacts_before_the_apology():
    replies = aborted_turn(TrackerStoreUnavailable("read"), text="honestly I can't go on like this")
    text = "\n".join(r.get("text") or "" for r in replies)
    assert text.index("Samaritans") < text.index("Sorry, something went wrong")
    alert = next(r["custom"] for r in replies if r.get("custom"))
    assert "116123" in [c["tel"] for c in alert["call"]]


def test_a_tapped_button_in_a_failed_turn_gets_the_apology_only():
    assert len(aborted_turn(fault_handling.TurnAborted("x"), text="/affirm")) == 1
