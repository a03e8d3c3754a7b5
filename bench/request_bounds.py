"""What one bad request costs the server: stored tracker bytes and log lines (issue 26).

    .venv/bin/python bench/request_bounds.py [--keep]

Starts the trained assistant as the e2e tests do (its own SQLite files, the deployment's
logging config). From a new widget-form sender that has said "hi" first, it sends "hi" as
the widget does, "hi" with 300 bytes of metadata nothing reads, with 60 KB of metadata,
with metadata nested 600 deep (1.2 KB), a 2 KB body of 1,000 "[" and 1,000 "]", and 25
turns with 60 KB of metadata each. Prints, per case: the HTTP status, the bytes the tracker
store's events table grew by (SUM(LENGTH(data)), every conversation) and the lines the
Rasa and action servers' logs grew by. Issue 26's figures: docs/security-input.md.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import Assistant, start_assistant  # noqa: E402

LOGS = ("rasa.log", "actions.log")


def new_sender() -> str:
    return "web-" + secrets.token_hex(12)  # the widget's form (widget/static/widget.js)


def stored_bytes(assistant: Assistant) -> int:
    with sqlite3.connect(assistant.workdir / "rasa.db") as db:
        return db.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM events").fetchone()[0]


def log_lines(assistant: Assistant) -> int:
    return sum(len((assistant.workdir / name).read_text(errors="replace").splitlines()) for name in LOGS)


def post(assistant: Assistant, body: bytes) -> int:
    url = f"{assistant.url}/webhooks/rest/webhook"
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=120).status_code


def nested(depth: int) -> dict:
    """{"a": [[[...]]]}: metadata `depth` levels deep in about 2 bytes a level."""
    value: list = []
    for _ in range(depth - 2):
        value = [value]
    return {"a": value}


def measure(assistant: Assistant, name: str, bodies) -> dict:
    """bodies(sender) -> the request bodies to send after the sender's "hi"."""
    sender = new_sender()
    post(assistant, json.dumps({"sender": sender, "message": "hi"}).encode())
    time.sleep(1)  # let the "hi" turn's log lines land before counting
    size, lines, t0 = stored_bytes(assistant), log_lines(assistant), time.perf_counter()
    statuses = [post(assistant, body) for body in bodies(sender)]
    elapsed = time.perf_counter() - t0
    time.sleep(1)
    return {
        "request": name,
        "body bytes": len(bodies(sender)[0]),
        "status": ",".join(sorted({str(s) for s in statuses})),
        "stored bytes": stored_bytes(assistant) - size,
        "log lines": log_lines(assistant) - lines,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    big = {"k": "x" * 60_000}

    def with_metadata(metadata, turns=1):
        return lambda sender: [
            json.dumps({"sender": sender, "message": "hi", "metadata": metadata}).encode() for _ in range(turns)
        ]

    cases = [
        (
            "no metadata (the widget's request)",
            lambda sender: [json.dumps({"sender": sender, "message": "hi"}).encode()],
        ),
        ("300 B of metadata nothing reads", with_metadata({"page": "/treatment?" + "x" * 280})),
        ("60 KB metadata", with_metadata(big)),
        ("metadata nested 600 deep", with_metadata(nested(600))),
        ("1,000 [ then 1,000 ]", lambda sender: [b"[" * 1000 + b"]" * 1000]),
        ("25 turns with 60 KB metadata", with_metadata(big, 25)),
    ]
    keep = "--keep" in sys.argv  # keep the servers' logs and database to read them
    workdir = Path(tempfile.mkdtemp(prefix="request-bounds-"))
    assistant = start_assistant(workdir)
    try:
        rows = [measure(assistant, name, bodies) for name, bodies in cases]
    finally:
        assistant.stop()
        if keep:
            print(f"logs and database kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
