"""Starts the trained assistant (Rasa server + action server) for end-to-end tests,
each on a free port with its own throw-away SQLite databases."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODEL = Path(os.environ.get("SCREENING_MODEL", ROOT / "models" / "screening.tar.gz"))
API_TOKEN = "e2e-test-token"  # a throw-away token for the test server only
# Every server logs through the redaction the deployment uses (security/logging.yml needs the
# repo root importable: Rasa reads it before adding the working directory to sys.path).
LOGGING_ARGS = ("--logging-config-file", str(ROOT / "security" / "logging.yml"))
PYTHONPATH = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
# The documented entry points (docs/deployment.md): the Rasa server through the project's
# launcher, which installs its server extensions (serving/extensions.py), and the action
# server through its own, which checks the production settings first.
RASA_SERVER = (sys.executable, "-m", "serving", "run")
ACTION_SERVER = (sys.executable, "-m", "actions")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early; log:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s; log:\n{log.read_text()[-3000:]}")


def stop_processes(processes) -> None:
    """SIGTERM to every process still running, then wait; kill any that do not stop."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Assistant:
    url: str
    action_url: str
    workdir: Path
    consultation_db_url: str
    processes: dict[str, subprocess.Popen]

    def stop(self) -> None:
        stop_processes(self.processes.values())

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30)
        response.raise_for_status()
        return response.json()


# Scripted patients answer within milliseconds of each reply: a screening's ~40 messages in
# a few seconds, faster than any person and past the per-sender limit meant for floods
# (channels/input_limits.py). Servers for these tests get a limit no script reaches; the
# limits themselves are tested with small values in tests/security/.
SCRIPTED_CLIENT_LIMITS = {"sender_burst": 100_000, "sender_per_minute": 1_000_000}
OUR_LIMITED_CHANNELS = (
    "channels.rest_guarded.GuardedRestInput",
    "channels.twilio.TwilioVerifiedInput",
    "channels.telegram.TelegramVerifiedInput",
)


def credentials_for_scripted_clients(source: Path, workdir: Path) -> Path:
    """The repo's credentials file with the per-sender limit raised for scripted patients."""
    config = yaml.safe_load(source.read_text()) or {}
    for channel in OUR_LIMITED_CHANNELS:
        if channel in config:
            config[channel] = {**(config[channel] or {}), **SCRIPTED_CLIENT_LIMITS}
    target = workdir / f"scripted-{source.name}"
    target.write_text(yaml.safe_dump(config))
    return target


def endpoints_for_test(action_port: int, tracker_db: Path) -> str:
    """The repo's endpoints.yml (the embedded default) with this test's action-server port
    and SQLite file, so the tests run exactly the configuration a clinic runs."""
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    config["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    config["tracker_store"]["db"] = str(tracker_db)
    return yaml.safe_dump(config)


def start_assistant(
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    extra_rasa_args: Sequence[str] = (),
    credentials: Path | None = None,
) -> Assistant:
    """extra_rasa_args go on the Rasa server's command line (`rasa run`'s arguments), e.g.
    ("--cors", origin) for the widget.
    credentials: a Rasa credentials file instead of credentials.yml (the messaging channels')."""
    if not MODEL.exists():
        raise RuntimeError(f"No trained model at {MODEL}: run scripts/test.sh (it trains one) or `rasa train`.")
    rasa_port, action_port = free_port(), free_port()
    consultation_db_url = f"sqlite:///{workdir / 'consultations.db'}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(endpoints_for_test(action_port, workdir / "rasa.db"))
    if credentials is None or credentials.parent == ROOT:  # the repo's own files, not a test's
        credentials = credentials_for_scripted_clients(credentials or ROOT / "credentials.yml", workdir)
    env = {
        **os.environ,
        "CONSULTATION_DB_URL": consultation_db_url,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": PYTHONPATH,
        "SANIC_HOST": "127.0.0.1",
        **(extra_env or {}),
    }
    logs = {name: workdir / f"{name}.log" for name in ("actions", "rasa")}
    processes = {
        "actions": subprocess.Popen(
            [*ACTION_SERVER, "--port", str(action_port), "--actions", "actions", *LOGGING_ARGS],
            cwd=ROOT,
            env=env,
            stdout=logs["actions"].open("w"),
            stderr=subprocess.STDOUT,
        ),
        "rasa": subprocess.Popen(
            [
                *RASA_SERVER,
                "--port",
                str(rasa_port),
                "--model",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                "--enable-api",
                "--auth-token",
                API_TOKEN,
                "--interface",
                "127.0.0.1",
                *LOGGING_ARGS,
                *extra_rasa_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["rasa"].open("w"),
            stderr=subprocess.STDOUT,
        ),
    }
    assistant = Assistant(
        f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", workdir, consultation_db_url, processes
    )
    try:
        wait_until_up(f"{assistant.action_url}/health", processes["actions"], logs["actions"])
        wait_until_up(f"{assistant.url}/", processes["rasa"], logs["rasa"])
    except Exception:
        assistant.stop()
        raise
    return assistant
