"""Does Rasa's Redis lock-store race (RasaHQ/rasa #9213) bite two servers here?

Starts the production topology twice (stock `redis` lock store, then the project's
AtomicRedisLockStore), and for each round sends two messages of one patient to the two
servers at the same instant. A round is an anomaly when the stored transcript lost a
message, stored one twice, or shows the two turns interleaved (both user messages
before the first one was answered), i.e. the two servers processed it at once.

    .venv/bin/python bench/lock_race.py [--rounds 40]

Needs PostgreSQL and Redis (see tests/support/cluster.py). Prints a table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.cluster import services_available, simultaneous_round, start_cluster  # noqa: E402


def measure(label: str, endpoints: Path, rounds: int, workdir: Path) -> dict:
    cluster = start_cluster(workdir, endpoints=endpoints)
    try:
        outcomes = [simultaneous_round(cluster) for _ in range(rounds)]
    finally:
        cluster.stop()
    return {
        "lock store": label,
        "rounds": rounds,
        "anomalies": sum(o != "ok" for o in outcomes),
        "kinds": ", ".join(sorted({o for o in outcomes if o != "ok"})) or "-",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    reason = services_available()
    if reason:
        print(f"Cannot run: {reason}")
        return 1
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        stock = Path(tmp) / "endpoints.stock.yml"
        stock.write_text(
            (root / "endpoints.production.yml")
            .read_text()
            .replace("type: serving.lock_store.AtomicRedisLockStore", 'type: "redis"')
        )
        rows = [
            measure("stock RedisLockStore", stock, args.rounds, Path(tmp)),
            measure("AtomicRedisLockStore", root / "endpoints.production.yml", args.rounds, Path(tmp)),
        ]
    print("| lock store | rounds | anomalies | kinds |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['lock store']} | {r['rounds']} | {r['anomalies']} | {r['kinds']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
