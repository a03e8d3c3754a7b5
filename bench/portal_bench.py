"""Staff portal benchmark: inbox and conversation page times with 10,000 conversations.

    .venv/bin/python bench/portal_bench.py [--conversations 10000] [--requests 50]

Creates a temporary SQLite tracker store with Rasa's own schema (SQLTrackerStore) and fills
it with synthetic, fictional screenings: the rows are what SQLTrackerStore.save writes
(event.as_dict() of real Rasa events), inserted in bulk because saving 10,000 trackers one
by one would take most of the run. Then it times the first full index build and an
incremental refresh, starts the portal on a free port and times pages over HTTP.
Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered  # noqa: E402

from portal import accounts, db, summaries  # noqa: E402

OUTCOMES = [
    ("eligible_for_consultation", []),
    ("needs_medical_review", ["unsure_rf_emergency"]),
    ("not_eligible_now", ["pregnancy"]),
    ("urgent_care", ["rf_cardiac"]),
    (None, []),
]
WORDS = ["clenching", "grinding", "headache", "warfarin", "aspirin", "mouthguard", "stress", "morning", "ache"]
BUTTONS = [
    {"title": "Yes", "payload": '/inform{"option": "yes"}'},
    {"title": "No", "payload": '/inform{"option": "no"}'},
]


def conversation_events(rng: random.Random, start: float):
    t = iter(range(1000))
    ts = lambda: start + next(t)  # noqa: E731
    outcome, reasons = rng.choice(OUTCOMES)
    events = [
        ActionExecuted("action_session_start", timestamp=ts()),
        SessionStarted(timestamp=ts()),
        SlotSet("clinic_name", "Example Jaw Clinic", timestamp=ts()),
    ]
    for _ in range(rng.randint(6, 14)):
        events.append(BotUttered("Do you have jaw pain when you chew?", data={"buttons": BUTTONS}, timestamp=ts()))
        events.append(ActionExecuted("action_listen", timestamp=ts()))
        text = rng.choice(['/inform{"option": "yes"}', "no", "I " + " ".join(rng.sample(WORDS, 3))])
        events.append(UserUttered(text, {"name": "inform", "confidence": 1.0}, input_channel="rest", timestamp=ts()))
        events.append(SlotSet("tmd_chewing", rng.choice(["yes", "no"]), timestamp=ts()))
    if outcome:
        events += [
            SlotSet("screening_outcome", outcome, timestamp=ts()),
            SlotSet("screening_reasons", reasons, timestamp=ts()),
        ]
    if rng.random() < 0.3:
        events.append(SlotSet("consultation_requested", True, timestamp=ts()))
    return events


def fill(url: str, count: int) -> int:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url[len("sqlite:///") :])  # Rasa's schema
    rng = random.Random(7)
    now = time.time()
    rows = []
    for i in range(count):
        for event in conversation_events(rng, now - rng.uniform(0, 180 * 86400)):
            data = event.as_dict()
            rows.append(
                {
                    "sender_id": f"bench-{i:05d}",
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": None,
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
            ),
            rows,
        )
    return len(rows)


def timed(http, url, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = http.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        resp.raise_for_status()
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {
        "TRACKER_DB_URL": f"sqlite:///{folder / 'rasa.db'}",
        "PORTAL_DB_URL": f"sqlite:///{folder / 'portal.db'}",
        "CONSULTATION_DB_URL": f"sqlite:///{folder / 'consultations.db'}",
    }
    t0 = time.perf_counter()
    events = fill(env["TRACKER_DB_URL"], args.conversations)
    print(f"{args.conversations} conversations, {events} events written in {time.perf_counter() - t0:.1f} s")

    tracker, portal = db.engine_for(env["TRACKER_DB_URL"]), db.engine_for(env["PORTAL_DB_URL"])
    db.migrate(portal)
    t0 = time.perf_counter()
    read = summaries.summarise_new_events(tracker, portal)
    print(f"first index build: {read} events in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    summaries.summarise_new_events(tracker, portal)
    print(f"refresh with nothing new: {(time.perf_counter() - t0) * 1000:.1f} ms")
    with portal.begin() as conn:
        accounts.create_user(conn, "bench.admin", "benchmark password", "admin")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "portal"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env, "PORTAL_PORT": str(port), "PORTAL_INSECURE_COOKIES": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        http = requests.Session()
        form = http.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        http.post(
            f"{base}/login", data={"csrf_token": token, "username": "bench.admin", "password": "benchmark password"}
        ).raise_for_status()
        pages = [
            ("inbox, first page", "/inbox"),
            ("inbox, page 100", "/inbox?page=100"),
            ("inbox, outcome filter", "/inbox?outcome=urgent_care"),
            ("inbox, text search", "/inbox?q=warfarin+aspirin"),
            ("inbox, filters combined", "/inbox?outcome=needs_medical_review&consultation=yes&reviewed=no"),
            ("conversation page", "/conversation?id=bench-04321"),
            ("CSV export (all rows)", "/inbox.csv"),
        ]
        print(f"\n{'page':28} {'median ms':>10} {'p95 ms':>8}   ({args.requests} requests each)")
        for label, path in pages:
            n = args.requests if "csv" not in path else max(5, args.requests // 10)
            median, p95 = timed(http, base + path, n)
            print(f"{label:28} {median:10.1f} {p95:8.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
