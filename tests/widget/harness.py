"""Starts what the browser tests need: the real assistant (Rasa + action server, Rasa
allowing the demo page's origin via --cors), the widget's Sanic app, and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, Assistant, free_port, start_assistant, wait_until_up

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@dataclass
class Stack:
    assistant: Assistant
    site: str  # the demo clinic site, e.g. http://127.0.0.1:41234
    widget_app: subprocess.Popen

    def stop(self) -> None:
        if self.widget_app.poll() is None:
            self.widget_app.send_signal(signal.SIGTERM)
            self.widget_app.wait(timeout=20)
        self.assistant.stop()


def start_widget_app(port: int, rasa_url: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:  # the child keeps its own copy of the file descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "widget.app", "--port", str(port), "--rasa-url", rasa_url],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log, timeout=30)
    except Exception:
        process.kill()
        raise
    return process


def start_stack(workdir: Path) -> Stack:
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    # The widget calls Rasa from the page's origin, as on a clinic's site: Rasa must allow it.
    assistant = start_assistant(workdir, extra_rasa_args=("--cors", site))
    try:
        widget_app = start_widget_app(site_port, assistant.url, workdir / "widget.log")
    except Exception:
        assistant.stop()
        raise
    return Stack(assistant, site, widget_app)


def stop_rasa(assistant: Assistant) -> None:
    """Stops only the Rasa server; the action server and the SQLite tracker store stay."""
    process = assistant.processes["rasa"]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def restart_rasa(assistant: Assistant) -> None:
    """Starts Rasa again with the very same command line: same port, model, tracker store."""
    log = assistant.workdir / "rasa.log"
    env = {**os.environ, "CONSULTATION_DB_URL": assistant.consultation_db_url, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with log.open("a") as out:
        process = subprocess.Popen(
            assistant.processes["rasa"].args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    assistant.processes["rasa"] = process  # so Assistant.stop() ends this one
    wait_until_up(f"{assistant.url}/", process, log)


def launch_chromium(playwright):
    executable = shutil.which("chromium")
    if not executable:
        raise RuntimeError("Chromium is not installed: run `bash scripts/install_browser.sh`.")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
