"""The production topology on one machine: one action server and several Rasa servers
sharing a PostgreSQL tracker store and a Redis lock store (endpoints.production.yml)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis
import requests

from channels.sender_ids import new_web_sender
from tests.support.servers import (
    ACTION_SERVER,
    API_TOKEN,
    LOGGING_ARGS,
    MODEL,
    PYTHONPATH,
    RASA_SERVER,
    ROOT,
    credentials_for_scripted_clients,
    free_port,
    wait_until_up,
)

PG = dict(
    host=os.environ.get("TEST_PG_HOST", "127.0.0.1"),
    port=int(os.environ.get("TEST_PG_PORT", "5432")),
    user=os.environ.get("TEST_PG_USER", "postgres"),
    dbname="postgres",
)
REDIS = dict(host=os.environ.get("TEST_REDIS_HOST", "127.0.0.1"), port=int(os.environ.get("TEST_REDIS_PORT", "6379")))
REDIS_DB = "7"  # a database number of its own; the tests flush only their key prefix


def services_available() -> str:
    """Empty when PostgreSQL and Redis answer, else why not."""
    try:
        psycopg2.connect(connect_timeout=3, **PG).close()
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL at {PG['host']}:{PG['port']} unavailable: {error}"
    try:
        redis.Redis(socket_connect_timeout=3, **REDIS).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis at {REDIS['host']}:{REDIS['port']} unavailable: {error}"
    return ""


def _admin(sql: str) -> None:
    conn = psycopg2.connect(**PG)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@dataclass
class Cluster:
    workdir: Path
    db_name: str
    action_url: str
    env: dict[str, str]
    rasa_ports: list[int]
    endpoints: Path = ROOT / "endpoints.production.yml"
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    def start_rasa(self, index: int) -> None:
        port = self.rasa_ports[index]
        log = self.workdir / f"rasa-{index}.log"
        self.processes[f"rasa-{index}"] = subprocess.Popen(
            [
                *RASA_SERVER,
                "--port",
                str(port),
                "--model",
                str(MODEL),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(credentials_for_scripted_clients(ROOT / "credentials.yml", self.workdir)),
                "--enable-api",
                "--auth-token",
                API_TOKEN,
                "--interface",
                "127.0.0.1",
                *LOGGING_ARGS,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def wait_rasa(self, index: int) -> None:
        wait_until_up(f"{self.urls[index]}/", self.processes[f"rasa-{index}"], self.workdir / f"rasa-{index}.log")

    def kill_rasa(self, index: int) -> None:
        process = self.processes[f"rasa-{index}"]
        process.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        process.wait(timeout=20)

    def tracker(self, sender: str, index: int = 0) -> dict:
        response = requests.get(
            f"{self.urls[index]}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        _admin(f'DROP DATABASE IF EXISTS "{self.db_name}"')
        client = redis.Redis(db=int(REDIS_DB), **REDIS)
        for key in client.scan_iter("screening*"):
            client.delete(key)


def start_cluster(workdir: Path, rasa_servers: int = 2, endpoints: Path = None) -> Cluster:
    db_name = f"screening_test_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{db_name}"')
    action_port = free_port()
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": PYTHONPATH,
        "SANIC_HOST": "127.0.0.1",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "DB_HOST": PG["host"],
        "DB_PORT": str(PG["port"]),
        "DB_NAME": db_name,
        "DB_USER": PG["user"],
        "DB_PASSWORD": "",
        "REDIS_HOST": REDIS["host"],
        "REDIS_PORT": str(REDIS["port"]),
        "REDIS_PASSWORD": "",
        "REDIS_DB": REDIS_DB,
        "CONSULTATION_DB_URL": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{db_name}",
        # The balancer (tests/support/cluster.py's nginx, on this machine) is the trusted
        # proxy, as the balancer's address is in deploy/docker-compose.yml.
        "RASA_TRUSTED_PROXIES": "127.0.0.1",
    }
    cluster = Cluster(
        workdir,
        db_name,
        f"http://127.0.0.1:{action_port}",
        env,
        [free_port() for _ in range(rasa_servers)],
        endpoints or ROOT / "endpoints.production.yml",
    )
    try:
        log = workdir / "actions.log"
        cluster.processes["actions"] = subprocess.Popen(
            [*ACTION_SERVER, "--port", str(action_port), "--actions", "actions", *LOGGING_ARGS],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for index in range(rasa_servers):
            cluster.start_rasa(index)
        wait_until_up(f"{cluster.action_url}/health", cluster.processes["actions"], log)
        for index in range(rasa_servers):
            cluster.wait_rasa(index)
    except Exception:
        cluster.stop()
        raise
    return cluster


SIMULTANEOUS_QUESTIONS = ("what does it cost", "how does it work")


def simultaneous_round(cluster: Cluster) -> str:
    """One patient's two messages reach two servers at the same instant.

    Returns "ok", or what went wrong in the stored transcript: a message lost or stored
    twice, or the turns interleaved (the servers processed the conversation at once).
    """
    sender = new_web_sender()

    def post(url, text):
        return requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120)

    post(cluster.urls[0], "hello")
    barrier = threading.Barrier(2)

    def fire(index: int) -> None:
        barrier.wait()
        post(cluster.urls[index % len(cluster.urls)], SIMULTANEOUS_QUESTIONS[index])

    threads = [threading.Thread(target=fire, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = [e for e in cluster.tracker(sender)["events"] if e["event"] in ("user", "bot")]
    users = [e["text"] for e in events if e["event"] == "user"]
    if len(users) != 3 or sorted(users[1:]) != sorted(SIMULTANEOUS_QUESTIONS):
        return "lost or duplicated message"
    second = [i for i, e in enumerate(events) if e["event"] == "user"][1]
    if events[second + 1]["event"] != "bot":
        return "interleaved turns"
    return "ok"


def start_balancer(cluster: Cluster, workdir: Path) -> str:
    """Runs deploy/nginx.conf (Debian's nginx) in front of the cluster; returns its URL.

    The repo's config is used as is, with only the addresses swapped for this test's
    free ports, so the test checks the configuration clinics deploy.
    """
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed: run scripts/install_nginx.sh")
    public, private = free_port(), free_port()
    action_port = cluster.action_url.rsplit(":", 1)[1]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = re.sub(
        r"upstream rasa_servers \{[^}]*\}",
        "upstream rasa_servers {\n    least_conn;\n"
        + "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in cluster.rasa_ports)
        + "}",
        conf,
    )
    conf = re.sub(
        r"upstream action_servers \{[^}]*\}",
        f"upstream action_servers {{\n    server 127.0.0.1:{action_port};\n}}",
        conf,
    )
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{public};").replace(
        "listen 127.0.0.1:8080;", f"listen 127.0.0.1:{private};"
    )
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / f"{name}_temp").mkdir(exist_ok=True)
    main = workdir / "nginx-main.conf"
    main.write_text(
        f"pid {workdir}/nginx.pid;\nerror_log {workdir}/nginx-error.log warn;\nevents {{}}\n"
        f"http {{\n  access_log {workdir}/nginx-access.log;\n"
        + "".join(
            f"  {n}_temp_path {workdir}/{n}_temp;\n" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {workdir}/screening.conf;\n}}\n"
    )
    (workdir / "screening.conf").write_text(conf)
    cluster.processes["balancer"] = subprocess.Popen(
        [nginx, "-c", str(main), "-p", str(workdir), "-g", "daemon off;"],
        stdout=(workdir / "nginx.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{public}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            requests.get(f"{url}/", timeout=1)
            return url
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError((workdir / "nginx.out").read_text())
