"""Load benchmark: simulated patients through the REST channel, compared with Rasa's own
starter bot (`rasa init`) served the same way on the same machine.

    .venv/bin/python bench/load.py [--levels 1,10,50] [--skip-production] [--skip-starter]

Each simulated patient runs a complete screening (typed answers and buttons, one question
about the treatment in the middle). Starter-bot patients send the same number of turns
of its own kind ("hi", "I'm sad", "yes", ...). Prints per-turn latency p50/p95/p99,
turns per second, errors, peak resident memory of each process, cold start (launch to
first answer) and training time, and our figures as ratios to the starter's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.sender_ids import new_web_sender  # noqa: E402
from tests.support.conversation import Conversation  # noqa: E402
from tests.support.screening import answer_questions, start  # noqa: E402
from tests.support.servers import VENV_BIN, free_port, start_assistant  # noqa: E402

EMBEDDED = "ours, embedded (1 Rasa server, SQLite)"
PRODUCTION = "ours, 2 Rasa servers + PostgreSQL + Redis + nginx"
STARTER = "rasa init starter"
STARTER_SCRIPT = ["hi", "I am sad", "yes", "great", "bye", "hello", "I'm happy", "no", "goodbye"]


class TimedConversation(Conversation):
    def __init__(self, url: str, latencies: list[float], errors: list[str]) -> None:
        self.url = url
        self.latencies, self.errors = latencies, errors
        super().__init__(self, new_web_sender())

    def say(self, text):
        t0 = time.perf_counter()
        try:
            replies = super().say(text)
        except Exception as error:  # noqa: BLE001 - every failure is counted, none hidden
            self.errors.append(type(error).__name__)
            raise
        self.latencies.append(time.perf_counter() - t0)
        return replies

    def tracker(self, sender):  # not used by the benchmark
        return {}


def screening_patient(url: str, latencies: list[float], errors: list[str]) -> int:
    conversation = TimedConversation(url, latencies, errors)
    start(conversation)
    conversation.say("what are the side effects?")  # one interruption
    answer_questions(conversation)
    conversation.tap("Yes, that's right")
    if "Nothing in this screening rules the treatment out" not in conversation.text:
        errors.append("wrong outcome")
    return len(conversation.transcript)


def starter_patient(url: str, turns: int, latencies: list[float], errors: list[str]) -> None:
    conversation = TimedConversation(url, latencies, errors)
    for i in range(turns):
        conversation.say(STARTER_SCRIPT[i % len(STARTER_SCRIPT)])


def screening_turns(url: str) -> int:
    """How many turns one screening takes (one warm-up patient, not counted): the starter's
    patients send as many."""
    latencies: list[float] = []
    errors: list[str] = []
    screening_patient(url, latencies, errors)
    if errors:
        raise RuntimeError(f"warm-up screening failed: {errors}")
    return len(latencies)


def run_level(patient, url: str, concurrency: int, **kwargs) -> dict:
    latencies: list[float] = []
    errors: list[str] = []

    def one():
        try:
            patient(url, latencies=latencies, errors=errors, **kwargs)
        except Exception:  # noqa: BLE001 - already counted in errors
            pass

    threads = [threading.Thread(target=one) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "turns": len(latencies),
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "turns_per_s": len(latencies) / elapsed,
        "errors": len(errors),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def first_answer_seconds(url: str, launched: float, timeout: float = 300) -> float:
    body = {"sender": new_web_sender(), "message": "hi"}  # the widget's form: ours accepts no other
    while time.time() - launched < timeout:
        try:
            r = requests.post(f"{url}/webhooks/rest/webhook", json=body, timeout=30)
            if r.status_code == 200 and r.json():
                return time.time() - launched
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def start_starter(workdir: Path) -> dict:
    project = workdir / "starter"
    project.mkdir()  # rasa init needs the folder to exist
    t0 = time.time()
    subprocess.run(
        [str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    training = time.time() - t0
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    port = free_port()
    log = workdir / "starter.log"
    launched = time.time()
    process = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1"],
        cwd=project,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    cold = first_answer_seconds(url, launched)
    return {"url": url, "process": process, "training": training, "cold": cold}


def our_training_seconds() -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.time()
        # An empty cache directory: from scratch, like `rasa init` above.
        subprocess.run(
            [str(VENV_BIN / "rasa"), "train", "--out", out, "--fixed-model-name", "bench"],
            cwd=ROOT,
            env={**os.environ, "RASA_CACHE_DIRECTORY": str(Path(out) / "cache")},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.time() - t0


def table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append(
            "| " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns) + " |"
        )
    return "\n".join(lines)


def measure_levels(setups: dict[str, dict], levels: list[int], rounds: int) -> list[dict]:
    """Runs every setup at each level, one after another, `rounds` times over.

    Interleaving (ours, ours, starter at 1 patient; then the same at 10; ...) means each
    ratio compares runs a minute or two apart, so a noisy neighbour on the machine hits
    both sides of a ratio alike instead of only one of them. With several rounds the
    median p95 of each setup is reported."""
    rows: list[dict] = []
    for name, setup in setups.items():
        # Warm-up, not counted: a Rasa server's first turns trace TensorFlow functions
        # and fill caches (seconds each). Two patients, so that both servers behind the
        # balancer get theirs.
        warm_up = run_level(setup["patient"], setup["url"], 2, **setup.get("kwargs", {}))
        if warm_up["errors"]:
            raise RuntimeError(f"{name}: warm-up failed ({warm_up['errors']} errors)")
    for level in levels:
        for round_number in range(rounds):
            for name, setup in setups.items():
                pids = [p.pid for p in setup["processes"].values()]
                cpu_before = sum(cpu_seconds(pid) for pid in pids)
                result = run_level(setup["patient"], setup["url"], level, **setup.get("kwargs", {}))
                # CPU per turn, all of the setup's processes together: unlike latency, it
                # hardly moves when something else is using the machine.
                result["cpu_ms_per_turn"] = (
                    1000 * (sum(cpu_seconds(pid) for pid in pids) - cpu_before) / max(1, result["turns"])
                )
                rows.append({"setup": name, "patients": level, "round": round_number + 1, **result})
                print(rows[-1], flush=True)
    return rows


def median_rows(rows: list[dict]) -> list[dict]:
    """One row per setup and level: the round with the median p95 (errors summed)."""
    merged = []
    keys = []
    for row in rows:
        if (row["setup"], row["patients"]) not in keys:
            keys.append((row["setup"], row["patients"]))
    for setup, patients in keys:
        group = sorted((r for r in rows if r["setup"] == setup and r["patients"] == patients), key=lambda r: r["p95"])
        chosen = dict(group[(len(group) - 1) // 2])
        chosen["errors"] = sum(r["errors"] for r in group)
        merged.append(chosen)
    return merged


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each level; median p95 reported")
    parser.add_argument("--skip-production", action="store_true")
    parser.add_argument("--skip-starter", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    memory: list[dict] = []
    setups: dict[str, dict] = {}
    stoppers = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "embedded").mkdir()
        (workdir / "cluster").mkdir()
        try:
            # Each server is started and answers its first message before the next one
            # starts, so cold starts are measured on an otherwise idle machine.
            launched = time.time()
            ours = start_assistant(workdir / "embedded")
            stoppers.append(ours.stop)
            ours_cold = first_answer_seconds(ours.url, launched)
            setups[EMBEDDED] = {"patient": screening_patient, "url": ours.url, "processes": ours.processes}
            if not args.skip_production:
                from tests.support.cluster import services_available, start_balancer, start_cluster

                reason = services_available()
                if reason:
                    print(f"production topology skipped: {reason}")
                else:
                    cluster = start_cluster(workdir / "cluster")
                    stoppers.append(cluster.stop)
                    balancer = start_balancer(cluster, workdir / "cluster")
                    setups[PRODUCTION] = {"patient": screening_patient, "url": balancer, "processes": cluster.processes}
            starter = None
            if not args.skip_starter:
                starter = start_starter(workdir)
                stoppers.append(starter["process"].terminate)
                turns_per_patient = screening_turns(ours.url)
                setups[STARTER] = {
                    "patient": starter_patient,
                    "url": starter["url"],
                    "kwargs": {"turns": turns_per_patient},
                    "processes": {"rasa": starter["process"]},
                }
            rows = measure_levels(setups, levels, args.rounds)
            for name, setup in setups.items():
                memory += [
                    {"process": f"{name}: {proc}", "peak_rss_mb": peak_rss_mb(p.pid)}
                    for proc, p in setup["processes"].items()
                ]
        finally:
            for stop in reversed(stoppers):
                stop()
    rows = median_rows(rows)
    print(table(rows, ["setup", "patients", "turns", "p50", "p95", "p99", "turns_per_s", "cpu_ms_per_turn", "errors"]))
    print()
    print(table(memory, ["process", "peak_rss_mb"]))
    print()
    ours_training = None if args.skip_training else our_training_seconds()
    print(
        f"cold start (launch to first answer): ours {ours_cold:.1f} s"
        + (f", starter {starter['cold']:.1f} s, ratio {ours_cold / starter['cold']:.2f}" if starter else "")
    )
    if ours_training is not None or starter:
        print(
            "training from scratch: "
            + (f"ours {ours_training:.0f} s" if ours_training is not None else "ours not measured (--skip-training)")
            + (f", starter (rasa init) {starter['training']:.0f} s" if starter else "")
        )
    if starter:
        print("\nratios to the starter bot at the same concurrency (p95 latency; target <= 2.0):")
        for level in levels:
            start_row = next(r for r in rows if r["setup"] == STARTER and r["patients"] == level)
            for r in rows:
                if r["patients"] == level and r["setup"] != STARTER:
                    print(
                        f"  {r['setup']}, {level} patients: p95 {r['p95'] / start_row['p95']:.2f}x, "
                        f"turns/s {r['turns_per_s'] / start_row['turns_per_s']:.2f}x, "
                        f"CPU per turn {r['cpu_ms_per_turn'] / start_row['cpu_ms_per_turn']:.2f}x"
                    )
        ours_rasa = next(m["peak_rss_mb"] for m in memory if m["process"] == f"{EMBEDDED}: rasa")
        starter_rasa = next(m["peak_rss_mb"] for m in memory if m["process"] == f"{STARTER}: rasa")
        print(f"  peak memory of a Rasa server: {ours_rasa / starter_rasa:.2f}x (target <= 1.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
