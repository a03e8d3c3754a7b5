"""Builds tracker-store data the way Rasa writes it, and drives a running portal over HTTP.

Conversations are real Rasa events (UserUttered, BotUttered, SlotSet, ...) saved through
rasa's own SQLTrackerStore, so the portal reads exactly the rows and JSON Rasa produces.
All names, numbers and texts here are fictional.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    AllSlotsReset,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from portal import db, inbox
from portal.erasure import Stores

CONSENT_BUTTONS = [
    {"title": "Yes, that's okay", "payload": '/inform{"option": "yes"}'},
    {"title": "No", "payload": '/inform{"option": "no"}'},
]
RF_BUTTONS = [
    {"title": "Chest pain or breathlessness", "payload": '/inform{"option": "chest"}'},
    {"title": "None of these", "payload": '/inform{"option": "none"}'},
]


def tracker_store(url: str) -> SQLTrackerStore:
    """Rasa's SQL tracker store for a SQLAlchemy URL (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite:///"):
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url[len("sqlite:///") :])
    match = re.match(r"postgresql://(\w+)@([\d.]+):(\d+)/(\w+)$", url)
    user, host, port, name = match.groups()
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host=host, port=int(port), db=name, username=user)


def screening(
    conversation_id: str,
    start: float | None = None,
    channel: str = "rest",
    outcome: str | None = "eligible_for_consultation",
    reasons: Iterable[str] = (),
    messages: Iterable[str] = (),
    consultation: bool = False,
    restart_after: bool = False,
) -> list:
    """The events of one screening: greeting, consent by button, a red-flag question answered
    by typing, age, free messages, then the outcome slots (and a consultation request)."""
    t = start if start is not None else time.time()
    step = iter(range(10_000))

    def ts() -> float:
        return t + next(step)

    events = [
        ActionExecuted("action_session_start", timestamp=ts()),
        SessionStarted(timestamp=ts()),
        SlotSet("clinic_name", "Example Jaw Clinic", timestamp=ts()),
        ActionExecuted("action_listen", timestamp=ts()),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}, input_channel=channel, timestamp=ts()),
        BotUttered("Hello! I'm the Example Jaw Clinic assistant.", timestamp=ts()),
        BotUttered("Is it okay if I ask about your health?", data={"buttons": CONSENT_BUTTONS}, timestamp=ts()),
        UserUttered(
            '/inform{"option": "yes"}', {"name": "inform", "confidence": 1.0}, input_channel=channel, timestamp=ts()
        ),
        SlotSet("consent_given", True, timestamp=ts()),
        BotUttered(
            "First, a few safety questions. Do you have any of these right now?",
            data={"buttons": RF_BUTTONS},
            timestamp=ts(),
        ),
        UserUttered("none of these", {"name": "deny", "confidence": 1.0}, input_channel=channel, timestamp=ts()),
        SlotSet("rf_emergency", "none", timestamp=ts()),
        BotUttered("How old are you? (Please type your age in years.)", timestamp=ts()),
        UserUttered("I'm 41", {"name": "inform", "confidence": 1.0}, input_channel=channel, timestamp=ts()),
        SlotSet("patient_age", 41, timestamp=ts()),
    ]
    for text in messages:
        events.append(UserUttered(text, {"name": "inform", "confidence": 1.0}, input_channel=channel, timestamp=ts()))
        events.append(BotUttered("Thank you.", timestamp=ts()))
    if outcome:
        events += [
            SlotSet("screening_status", "completed", timestamp=ts()),
            SlotSet("tmd_screener_score", 4, timestamp=ts()),
            SlotSet("screening_outcome", outcome, timestamp=ts()),
            SlotSet("screening_reasons", list(reasons), timestamp=ts()),
        ]
    if consultation:
        events += [
            SlotSet("contact_name", "Sam Example", timestamp=ts()),
            SlotSet("contact_details", "sam@example.org", timestamp=ts()),
            SlotSet("consultation_requested", True, timestamp=ts()),
        ]
    if restart_after:
        events += [
            AllSlotsReset(timestamp=ts()),
            UserUttered("start over", {"name": "restart", "confidence": 1.0}, input_channel=channel, timestamp=ts()),
        ]
    return events


def save(store: SQLTrackerStore, conversation_id: str, events: list) -> None:
    tracker = DialogueStateTracker.from_events(conversation_id, events)
    asyncio.run(store.save(tracker))


# ---- databases and a running portal ----

ROOT = Path(__file__).resolve().parents[2]
PG = dict(host="127.0.0.1", port=5432, user="postgres")
ADMIN = ("alice.admin", "correct horse battery staple")
REVIEWER = ("rob.reviewer", "another long test password")


@dataclass
class Databases:
    tracker_url: str
    portal_url: str
    consultation_url: str

    def stores(self) -> Stores:
        portal = db.engine_for(self.portal_url)
        db.migrate(portal)
        return Stores(db.engine_for(self.tracker_url), portal, db.engine_for(self.consultation_url))

    def env(self) -> dict:
        return {
            "TRACKER_DB_URL": self.tracker_url,
            "PORTAL_DB_URL": self.portal_url,
            "CONSULTATION_DB_URL": self.consultation_url,
        }


def sqlite_databases(folder: Path) -> Databases:
    return Databases(
        f"sqlite:///{folder / 'rasa.db'}",
        f"sqlite:///{folder / 'portal.db'}",
        f"sqlite:///{folder / 'consultations.db'}",
    )


def pg_admin():
    import psycopg2

    try:
        conn = psycopg2.connect(dbname="test", connect_timeout=3, **PG)
    except psycopg2.OperationalError as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {PG['host']}:{PG['port']} (user postgres, database test): {str(exc).strip()}"
        )
    conn.autocommit = True
    return conn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Portal:
    base: str
    databases: Databases
    process: subprocess.Popen


def run_cli(databases: Databases, *args: str, stdin: str = "", extra_env: dict = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **databases.env(), "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def start_portal(databases: Databases, extra_env: dict = None) -> Portal:
    port = free_port()
    env = {
        **os.environ,
        **databases.env(),
        "PORTAL_PORT": str(port),
        "PORTAL_INSECURE_COOKIES": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
        **(extra_env or {}),
    }
    log = open(
        Path(databases.portal_url.replace("sqlite:///", "")).with_suffix(".log")
        if databases.portal_url.startswith("sqlite")
        else os.devnull,
        "w",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "portal"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited with {process.returncode} (log: {log.name})")
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                return Portal(base, databases, process)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the portal did not start within 60 s")


def stop_portal(portal: Portal) -> None:
    portal.process.terminate()
    try:
        portal.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        portal.process.kill()


# ---- HTTP ------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(base: str, username: str, password: str, expect: int = 303) -> requests.Session:
    http = requests.Session()
    form = http.get(f"{base}/login")
    resp = http.post(
        f"{base}/login",
        data={"csrf_token": csrf_from(form.text), "username": username, "password": password, "next": "/inbox"},
        allow_redirects=False,
    )
    assert resp.status_code == expect, resp.text[:500]
    return http


def page_csrf(http: requests.Session, base: str) -> str:
    return csrf_from(http.get(f"{base}/inbox").text)


# ---- the assistant's safety net (slots safety_flags and distress_flagged) ----------

CHEST_FLAG = {
    "kind": "red_flag",
    "flag": "chest",
    "question": "rf_emergency",
    "value": "chest",
    "words": "my chest feels heavy and the ache goes into my arm",
    "certain": True,
}
DISTRESS_FLAG = {
    "kind": "distress",
    "flag": "distress",
    "question": None,
    "value": None,
    "words": "i want to die",
    "certain": True,
}


def safety_net(start: float, flags: list[dict], channel: str = "rest") -> list:
    """The person says each flag's words; after each the assistant sets ``safety_flags`` to
    the whole list so far (as it does), and ``distress_flagged`` after a distress flag."""
    events, t = [], start
    for i, flag in enumerate(flags):
        events += [
            UserUttered(flag["words"], {"name": "inform", "confidence": 1.0}, input_channel=channel, timestamp=t),
            SlotSet("safety_flags", [dict(f) for f in flags[: i + 1]], timestamp=t + 1),
        ]
        if flag["kind"] == "distress":
            events += [
                SlotSet("distress_flagged", True, timestamp=t + 2),
                BotUttered(
                    "I'm so sorry you're feeling like this. Please call 999 or Samaritans on 116 123 now.",
                    timestamp=t + 3,
                ),
            ]
        t += 10
    return events


def start_over(at: float, channel: str = "rest", restarted: bool = False) -> list:
    """ "Start over": Rasa clears every slot (a ``reset_slots`` event, or ``restart`` when
    restarted), then the assistant sets the safety slots empty."""
    return [
        UserUttered("start over", {"name": "restart", "confidence": 1.0}, input_channel=channel, timestamp=at),
        Restarted(timestamp=at + 1) if restarted else AllSlotsReset(timestamp=at + 1),
        SlotSet("safety_flags", [], timestamp=at + 2),
        SlotSet("distress_flagged", False, timestamp=at + 3),
    ]


def summary_row(stores: Stores, conversation_id: str):
    """The conversation's inbox-index row (portal_summaries) as a dict, or None."""
    with stores.portal.connect() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM portal_summaries WHERE conversation_id = :c"), {"c": conversation_id}
        ).first()
    return dict(row._mapping) if row else None


def inbox_ids(stores: Stores, **filters) -> list[str]:
    """Conversation ids the inbox lists for these filters (first 100)."""
    rows, _ = inbox.search(stores.portal, inbox.Filters(**filters), 100)
    return [r["conversation_id"] for r in rows]


# ---- questions the assistant could not answer, asking for a person ----------------------
# (slots unanswered_questions and person_requested; portal/questions.py)


def question(words: str, at: float, context: str | None = None) -> dict:
    return {"words": words, "at": at, "context": context}


def unanswered(items: list[dict], channel: str = "rest", earlier: Iterable[dict] = ()) -> list:
    """The person asks each question (at its "at"); the assistant says it cannot answer and
    sets ``unanswered_questions`` to the whole list so far (after ``earlier``), as it does."""
    events, so_far = [], [dict(i) for i in earlier]
    for item in items:
        t = item["at"]
        so_far.append(dict(item))
        events += [
            UserUttered(item["words"], {"name": "out_of_scope", "confidence": 1.0}, input_channel=channel, timestamp=t),
            BotUttered(
                "I'm sorry, I can't answer that here. The clinic's staff will see your question.", timestamp=t + 1
            ),
            SlotSet("unanswered_questions", [dict(i) for i in so_far], timestamp=t + 2),
        ]
    return events


def asks_for_person(at: float, channel: str = "rest") -> list:
    return [
        UserUttered(
            "can I talk to a real person please",
            {"name": "human_handoff", "confidence": 1.0},
            input_channel=channel,
            timestamp=at,
        ),
        SlotSet("person_requested", True, timestamp=at + 1),
    ]


def questions_start_over(at: float) -> list:
    """ "Start over" as the assistant does it: every slot cleared, the lists set empty."""
    return [
        UserUttered("start over", {"name": "restart", "confidence": 1.0}, timestamp=at),
        AllSlotsReset(timestamp=at + 1),
        SlotSet("unanswered_questions", [], timestamp=at + 2),
        SlotSet("person_requested", False, timestamp=at + 3),
    ]
