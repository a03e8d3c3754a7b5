"""Prints what the assistant does when the action server dies or is slow, or (--database)
when PostgreSQL is down at start-up or restarts, for stock Rasa (`--stock`: tracker store
type SQL, nothing of serving/ loaded) or ours. A measurement for docs/faults.md, not a test:
  .venv/bin/python -m tests.faults.measure [--stock] [--database]"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.faults.conversation_checks import user_texts
from tests.faults.harness import OURS, FaultyAssistant, postgres_tracker_store, sqlite_tracker_store
from tests.faults.postgres import PG, fresh_database, stored_events
from tests.faults.tcp_proxy import TcpProxy
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, current_question, start

WIDGET_PATIENCE_SECONDS = 60


def show(label, assistant, conversation):
    slots = assistant.tracker(conversation.sender)["slots"]
    texts = [r.get("text", "")[:90] for r in conversation.replies]
    print(
        f"- {label}: replies={texts} next question={current_question(conversation)} "
        f"requested_slot={slots['requested_slot']} screening_outcome={slots['screening_outcome']}"
    )
    return slots


def main(stock: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="faults-measure-"))
    assistant = FaultyAssistant(workdir, sqlite_tracker_store(workdir, "SQL" if stock else OURS), stock=stock)
    assistant.start_actions()
    assistant.start_rasa()
    print(f"## {'stock Rasa' if stock else 'with serving/'} ({workdir})")
    try:
        conversation = Conversation(assistant)
        start(conversation)
        conversation.tap("None of these")
        conversation.say("I'm 34")
        show("before the fault", assistant, conversation)
        assistant.kill("actions")
        assistant.action_proxy.refuse()
        conversation.say("no")
        slots = show("action server down, patient answers 'no' to rf_locked_jaw", assistant, conversation)
        print(f"  rf_locked_jaw={slots['rf_locked_jaw']}")
        conversation.say("no")
        show("still down, patient answers again", assistant, conversation)
        assistant.start_actions()
        assistant.action_proxy.accept()
        conversation.say("no")
        slots = show("action server back, patient answers 'no' again", assistant, conversation)
        print(f"  rf_locked_jaw={slots['rf_locked_jaw']}")
        answer_questions(conversation)
        summary = conversation.replies
        assistant.kill("actions")
        assistant.action_proxy.refuse()
        conversation.tap("Yes, that's right")
        slots = show("down at the summary, patient confirms", assistant, conversation)
        print(f"  screening_status={slots['screening_status']}")
        assistant.start_actions()
        assistant.action_proxy.accept()
        conversation.replies = summary
        conversation.tap("Yes, that's right")
        show("back, patient confirms again", assistant, conversation)

        slow = Conversation(assistant)
        start(slow)
        slow.tap("None of these")
        assistant.action_proxy.delay_seconds = 400
        began = time.monotonic()
        try:
            requests.post(
                f"{assistant.url}/webhooks/rest/webhook",
                json={"sender": slow.sender, "message": "I'm 34"},
                timeout=WIDGET_PATIENCE_SECONDS + 5,
            )
            print(f"- slow action server: answered after {time.monotonic() - began:.1f}s")
        except requests.Timeout:
            print(
                f"- slow action server: no answer within {WIDGET_PATIENCE_SECONDS + 5}s (the widget gives up at "
                f"{WIDGET_PATIENCE_SECONDS}s)"
            )
    finally:
        assistant.stop()


def stored_user_texts(db_name, sender):
    try:
        return user_texts(stored_events(db_name, sender))
    except Exception as error:  # noqa: BLE001 - e.g. the table was never created
        return f"unreadable: {type(error).__name__}"


def database(stock: bool) -> None:
    store_type = "SQL" if stock else OURS
    print(f"## database faults, {'stock Rasa' if stock else 'with serving/'}")
    with fresh_database() as db_name:
        proxy = TcpProxy(PG["host"], PG["port"], listening=False)
        workdir = Path(tempfile.mkdtemp(prefix="faults-measure-db-"))
        assistant = FaultyAssistant(
            workdir, postgres_tracker_store(proxy.address, db_name, PG["user"], store_type), stock=stock
        )
        try:
            assistant.start_actions()
            assistant.start_rasa(wait=False)
            time.sleep(20)  # well into start-up (the model loads meanwhile)
            proxy.accept()
            assistant.wait_rasa()
            conversation = Conversation(assistant)
            start(conversation)
            shown = [r.get("text", "")[:60] for r in conversation.replies]
            print(
                f"- start-up while the database refused connections: replies={shown}; "
                f"stored user turns={stored_user_texts(db_name, conversation.sender)}"
            )
        finally:
            assistant.stop()

    with fresh_database() as db_name:
        proxy = TcpProxy(PG["host"], PG["port"])
        workdir = Path(tempfile.mkdtemp(prefix="faults-measure-db-"))
        assistant = FaultyAssistant(
            workdir, postgres_tracker_store(proxy.address, db_name, PG["user"], store_type), stock=stock
        )
        try:
            assistant.start_actions()
            assistant.start_rasa()
            conversation = Conversation(assistant)
            start(conversation)
            conversation.tap("None of these")
            conversation.say("I'm 34")
            proxy.sever()  # restarted between two messages, back at once
            conversation.say("no")
            print(
                f"- database restarted between messages, patient answers 'no': replies="
                f"{[r.get('text', '')[:60] for r in conversation.replies]}"
            )
            proxy.refuse()
            threading.Timer(3, proxy.accept).start()
            conversation.say("no")
            print(
                f"- database down 3 s while the next answer arrives: replies="
                f"{[r.get('text', '')[:60] for r in conversation.replies]}"
            )
            print(f"  sent: {[line[6:] for line in conversation.transcript if line.startswith('USER: ')]}")
            print(f"  stored user turns: {stored_user_texts(db_name, conversation.sender)}")
        finally:
            assistant.stop()
            proxy.close()


if __name__ == "__main__":
    if "--database" in sys.argv:
        database(stock="--stock" in sys.argv)
    else:
        main(stock="--stock" in sys.argv)
