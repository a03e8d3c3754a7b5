"""Runs the trained assistant so a test can break its parts: the action server is reached
through a TcpProxy (refuse, sever, delay), each process can be killed and restarted on the
same port with the same databases, and the tracker store can be SQLite or a PostgreSQL
database reached through another proxy.

Started as documented (`python -m serving run`, `python -m actions`), so the server
extensions are installed whatever tracker store is configured; the default store is ours,
as in endpoints.yml. stock=True runs stock Rasa instead (plain `rasa run`, Rasa's own REST
channel, no serving/ module loaded; give it tracker store type "SQL"), to measure what Rasa
itself does (tests/faults/measure.py --stock).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.faults.tcp_proxy import TcpProxy
from tests.support.servers import (
    ACTION_SERVER,
    API_TOKEN,
    MODEL,
    RASA_SERVER,
    ROOT,
    VENV_BIN,
    credentials_for_scripted_clients,
    free_port,
    stop_processes,
    wait_until_up,
)

OURS = "serving.tracker_store.ResilientSQLTrackerStore"


@dataclass
class FaultyAssistant:
    workdir: Path
    tracker_store_yaml: str
    action_timeout: float | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    stock: bool = False
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"No trained model at {MODEL}: run scripts/test.sh (it trains one) or `rasa train`.")
        self.action_proxy = TcpProxy("127.0.0.1", self.action_port)
        timeout = f"  timeout: {self.action_timeout}\n" if self.action_timeout else ""
        self.endpoints = self.workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://{self.action_proxy.address}/webhook"\n{timeout}'
            f"tracker_store:\n{self.tracker_store_yaml}"
        )
        self.env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "CONSULTATION_DB_URL": f"sqlite:///{self.workdir / 'consultations.db'}",
            **self.extra_env,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _spawn(self, name: str, command) -> None:
        self.processes[name] = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=self.env,
            stdout=(self.workdir / f"{name}.log").open("a"),
            stderr=subprocess.STDOUT,
        )

    def start_actions(self, wait: bool = True) -> None:
        self._spawn("actions", [*ACTION_SERVER, "--port", str(self.action_port), "--actions", "actions"])
        if wait:
            wait_until_up(
                f"http://127.0.0.1:{self.action_port}/health", self.processes["actions"], self.workdir / "actions.log"
            )

    def start_rasa(self, wait: bool = True) -> None:
        if self.stock:  # Rasa's own CLI and REST channel: our channels refuse a server without serving/
            credentials = self.workdir / "stock-credentials.yml"
            credentials.write_text("rest:\n")
            launcher = [str(VENV_BIN / "rasa"), "run"]
        else:
            credentials = credentials_for_scripted_clients(ROOT / "credentials.yml", self.workdir)
            launcher = list(RASA_SERVER)
        self._spawn(
            "rasa",
            [
                *launcher,
                "--port",
                str(self.rasa_port),
                "--model",
                str(MODEL),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(credentials),
                "--enable-api",
                "--auth-token",
                API_TOKEN,
                "--interface",
                "127.0.0.1",
            ],
        )
        if wait:
            self.wait_rasa()

    def wait_rasa(self, timeout: float = 300) -> None:
        wait_until_up(f"{self.url}/", self.processes["rasa"], self.workdir / "rasa.log", timeout=timeout)

    def kill(self, name: str) -> None:
        """SIGKILL: a crash, not a clean shutdown."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)

    def wait_for_log(self, name: str, text: str, count: int = 1, timeout: float = 240) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.log(name).count(text) >= count:
                return
            time.sleep(0.5)
        raise AssertionError(f"{text!r} not {count}x in {name}.log:\n{self.log(name)[-3000:]}")

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=60)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        stop_processes(self.processes.values())
        self.action_proxy.close()


def sqlite_tracker_store(workdir: Path, store_type: str = OURS) -> str:
    return f'  type: {store_type}\n  dialect: "sqlite"\n  db: "{workdir / "rasa.db"}"\n'


def postgres_tracker_store(
    address: str, db_name: str, user: str, store_type: str = OURS, retry_seconds: float | None = None
) -> str:
    host, port = address.rsplit(":", 1)
    retry = f"  retry_seconds: {retry_seconds}\n" if retry_seconds else ""
    return (
        f'  type: {store_type}\n  dialect: "postgresql"\n  url: "{host}"\n  port: {port}\n'
        f'  db: "{db_name}"\n  username: "{user}"\n  password: ""\n{retry}'
    )
