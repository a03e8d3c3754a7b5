"""Starts the staff portal on a (stopped) assistant's stores, with one staff account, for
the portal's browser tests: the conversations they read were had with the real assistant."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.servers import ROOT, Assistant, free_port, wait_until_up


@contextmanager
def portal_on(assistant: Assistant, username: str, role: str, password: str) -> Iterator[str]:
    """Yields the portal's base URL; the tracker store is the assistant's SQLite file."""
    workdir = assistant.workdir
    env = {
        **os.environ,
        "TRACKER_DB_URL": f"sqlite:///{workdir / 'rasa.db'}",
        "PORTAL_DB_URL": f"sqlite:///{workdir / 'portal.db'}",
        "CONSULTATION_DB_URL": assistant.consultation_db_url,
        "PORTAL_PORT": str(free_port()),
        "PORTAL_INSECURE_COOKIES": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "create-user", "--username", username, "--role", role, "--password-stdin"],
        input=password,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    log = workdir / "portal.log"
    with log.open("w") as out:  # the child keeps its own copy of the file descriptor
        process = subprocess.Popen([sys.executable, "-m", "portal"], env=env, cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{env['PORTAL_PORT']}"
    try:
        wait_until_up(f"{url}/login", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
