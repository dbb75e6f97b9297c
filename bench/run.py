"""`make bench`: every workload on Opportunity Scanner and on each peer in turn
(A B A B ..., BENCH_ROUNDS rounds), on one private redis-server; JSON lines in
bench/results/, the Markdown tables in docs/benchmarks.md.

    BENCH_ROUNDS=3 BENCH_WORKLOADS=throughput,status_read BENCH_PEERS=saq,arq,celery \\
        .venv/bin/python -m bench.run
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import redis

from bench import report
from bench.procs import ROOT, Proc, children_of, run_driver
from bench.stats import load_average
from bench.systems import (
    JWT_SECRET,
    start_oppscan,
    start_oppscan_worker,
    start_peer_workers,
    start_status_server,
)
from bench.workloads.status_read import run_wrk
from coordinator.process.embedded_redis import EmbeddedRedis

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_ROUNDS = 3
DEFAULT_PEERS = ("saq", "arq", "celery")
ALL_WORKLOADS = ("throughput", "status_read", "visibility", "takeover", "fanout", "scale")
DRIVER_TIMEOUT_S = 180.0
LOAD_SAMPLE_S = 5.0
# Throughput configurations: (strategy cost, worker processes).
THROUGHPUT_CONFIGS = (("noop", 1), ("noop", 2), ("cpu_1ms", 2))
STATUS_WORKERS = (1, 2)
# Throughput of Opportunity Scanner as its clients see a scan end: the POST waiting for it
# (`Prefer: wait`, one request), and the POST then the scan's websocket.
OPPSCAN_FOLLOWERS = {
    "oppscan": {"follow_by": "wait"},
    "oppscan (websocket)": {"follow_by": "websocket"},
}
# A held scan's strategies wait on market data longer than any benchmark.
HOLD_ENV = {"MARKET_DATA_LATENCY_MS": "600000", "SCAN_DEADLINE_S": "3600"}
# Takeover: five strategies of 2 s each (market-data latency), the default lease; tuned as
# the peers are: a dead worker's strategy tasks are reclaimed after 1 s instead of 3 s.
TAKEOVER_ENV = {"MARKET_DATA_LATENCY_MS": "2000", "WORK_RECLAIM_IDLE_MS": "1000"}
# Scale: a scan's one strategy waits on market data for longer than the run, so every
# scan stays running (owned, leased, renewed); reduced from the target's 10,000 by default.
SCALE_SCANS = 2000
SCALE_ENV = {"MARKET_DATA_LATENCY_MS": "600000", "SCAN_DEADLINE_S": "3600"}
# Fan-out: strategies wait 2.5 s on market data, many at once: a scan's 14 complete in
# about four waves, 2.5 s apart, so three of them come after the 1,000 clients (about
# 3 s to connect here) are in. At 1 s, most rounds measured only the last wave or two
# (70 to 1,300 messages), and one none at all.
FANOUT_ENV = {"MARKET_DATA_LATENCY_MS": "2500", "STRATEGY_TASKS_IN_FLIGHT": "64"}
# The fan-out's clients and their rows (see bench/workloads/fanout.py); the target is
# judged on picows's.
FANOUT_CLIENTS = {"picows": report.FANOUT_JUDGED, "aiohttp": "oppscan (aiohttp client)"}


@dataclass
class Run:
    redis_url: str
    rounds: int
    peers: tuple[str, ...]
    out_path: Path
    rows: list[dict[str, object]] = field(default_factory=list)
    load_samples: list[list[float]] = field(default_factory=list)

    def flush(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        client.flushall()
        client.close()

    def record(self, workload: str, config: str, system: str, round_: int, result: dict) -> None:  # type: ignore[type-arg]
        row = {**result, "workload": workload, "config": config, "system": system, "round": round_}
        row.setdefault("loadavg", load_average())
        self.rows.append(row)
        with self.out_path.open("a") as out:
            out.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    def drive(self, system: str, workload: str, params: dict, env: dict | None = None) -> dict:  # type: ignore[type-arg]
        return run_driver(system, workload, params, self.redis_url, DRIVER_TIMEOUT_S, env)


def oppscan_env(base_url: str) -> dict[str, str]:
    return {"BENCH_BASE_URL": base_url, "BENCH_JWT_SECRET": JWT_SECRET}


def stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        proc.stop()


def with_system(
    run: Run,
    system: str,
    workers: int,
    tag: str,
    env: dict[str, str] | None = None,
    *,
    takeover: bool = False,
) -> tuple[list[Proc], dict[str, str]]:
    """Start `system` with `workers` worker processes on a flushed Redis."""
    run.flush()
    if system == "oppscan":
        proc, base_url = start_oppscan(run.redis_url, workers, tag, env)
        return [proc], oppscan_env(base_url)
    return start_peer_workers(run.redis_url, system, workers, tag, takeover=takeover), {}


def guarded(
    run: Run,
    system: str,
    workers: int,
    tag: str,
    workload: str,
    params: dict[str, object],
    env: dict[str, str] | None = None,
    *,
    takeover: bool = False,
) -> dict[str, object]:
    """Start the system, drive one workload round, stop it; a failure becomes the result."""
    procs: list[Proc] = []
    try:
        procs, driver_env = with_system(run, system, workers, tag, env, takeover=takeover)
        return run.drive(system, workload, params, driver_env)
    except Exception as exc:  # one failed system never ends the whole run
        return {"error": repr(exc)}
    finally:
        stop_all(procs)


def throughput(run: Run) -> None:
    for cost, workers in THROUGHPUT_CONFIGS:
        config = f"{cost}, {workers} worker{'s' if workers > 1 else ''}"
        for round_ in range(run.rounds):
            for name in (*OPPSCAN_FOLLOWERS, *run.peers):
                system = "oppscan" if name in OPPSCAN_FOLLOWERS else name
                params = {"cost": cost, **OPPSCAN_FOLLOWERS.get(name, {})}
                follower = params.get("follow_by", "")
                tag = f"tp-{cost}-{workers}-{round_}{'-' if follower else ''}{follower}"
                result = guarded(run, system, workers, tag, "throughput", params)
                run.record("throughput", config, name, round_, result)


def token(user: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + 3600}, JWT_SECRET, algorithm="HS256")


def etag_of(url: str, headers: dict[str, str]) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return str(response.headers["ETag"])


def status_read(run: Run) -> None:
    for workers in STATUS_WORKERS:
        config = f"{workers} web worker{'s' if workers > 1 else ''}"
        for round_ in range(run.rounds):
            for system in ("oppscan", "floor", *run.peers):
                run.flush()
                procs: list[Proc] = []
                try:
                    for name, result in read_status_of(run, system, workers, round_, procs):
                        run.record("status_read", config, name, round_, result)
                except Exception as exc:  # one failed system never ends the whole run
                    run.record("status_read", config, system, round_, {"error": repr(exc)})
                finally:
                    stop_all(procs)


def read_status_of(
    run: Run, system: str, workers: int, round_: int, procs: list[Proc]
) -> Iterator[tuple[str, dict[str, object]]]:
    """Start `system`'s status server and one running scan/job; wrk it."""
    tag = f"sr-{workers}-{round_}"
    if system == "oppscan":
        proc, base_url = start_oppscan(run.redis_url, workers, tag, HOLD_ENV)
        procs.append(proc)
        held = run.drive("oppscan", "hold", {}, oppscan_env(base_url))
        url = f"{base_url}/api/v1/scans/{held['job_id']}"
        headers = {"Authorization": f"Bearer {token('bench-reader')}"}
        yield "oppscan", run_wrk(url, headers)
        headers["If-None-Match"] = etag_of(url, headers)
        yield "oppscan (304)", run_wrk(url, headers)
        return
    if system == "floor":
        proc, base_url = start_status_server(run.redis_url, "floor", workers, tag)
        procs.append(proc)
        yield "floor", run_wrk(f"{base_url}/status/floor", {})
        return
    procs += start_peer_workers(run.redis_url, system, 1, tag)
    held = run.drive(system, "hold", {})
    proc, base_url = start_status_server(run.redis_url, system, workers, tag)
    procs.append(proc)
    yield system, run_wrk(f"{base_url}/status/{held['job_id']}", {})


def visibility(run: Run) -> None:
    for round_ in range(run.rounds):
        for system in ("oppscan", *run.peers):
            result = guarded(run, system, 2, f"vis-{round_}", "visibility", {"round": round_})
            run.record("visibility", "500 scans, 2 workers", system, round_, result)


def takeover(run: Run) -> None:
    for round_ in range(run.rounds):
        for system in ("oppscan", *run.peers):
            procs, env = with_system(run, system, 2, f"to-{round_}", TAKEOVER_ENV, takeover=True)
            try:
                result = run.drive(system, "takeover", {"round": round_}, env)
            finally:
                stop_all(procs)
            run.record("takeover", "kill -9 after 1 s, 2 workers", system, round_, result)


def fanout(run: Run) -> None:
    for round_ in range(run.rounds):
        clients = list(FANOUT_CLIENTS.items())
        for client, label in clients if round_ % 2 == 0 else reversed(clients):  # A B, B A
            params = {"round": round_, "client": client}
            tag = f"fan-{client}-{round_}"
            result = guarded(run, "oppscan", 2, tag, "fanout", params, FANOUT_ENV)
            run.record("fanout", "1,000 sockets on 100 scans, 2 workers", label, round_, result)


def scale(run: Run) -> None:
    """One round (it is long): 2 web workers + 1 worker process, BENCH_SCALE_SCANS scans."""
    scans = int(os.environ.get("BENCH_SCALE_SCANS", SCALE_SCANS))
    run.flush()
    procs: list[Proc] = []
    try:
        proc, base_url = start_oppscan(run.redis_url, 2, "scale", SCALE_ENV)
        procs.append(proc)
        procs.append(start_oppscan_worker(run.redis_url, "scale", SCALE_ENV))
        pids = [*children_of(proc.pid), procs[1].pid]
        params = {"scans": scans, "pids": pids}
        result = run.drive("oppscan", "scale", params, oppscan_env(base_url))
    except Exception as exc:  # one failed system never ends the whole run
        result = {"error": repr(exc)}
    finally:
        stop_all(procs)
    config = f"{scans:,} running scans, 2 web workers + 1 worker"
    run.record("scale", config, "oppscan", 0, result)


WORKLOADS: dict[str, Callable[[Run], None]] = {
    "throughput": throughput,
    "status_read": status_read,
    "visibility": visibility,
    "takeover": takeover,
    "fanout": fanout,
    "scale": scale,
}


def sample_load(run: Run, stop: threading.Event) -> None:
    while not stop.wait(LOAD_SAMPLE_S):
        run.load_samples.append(load_average())


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally blocks: nothing left behind


def main() -> None:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    rounds = int(os.environ.get("BENCH_ROUNDS", DEFAULT_ROUNDS))
    selected = [
        w for w in os.environ.get("BENCH_WORKLOADS", ",".join(ALL_WORKLOADS)).split(",") if w
    ]
    peers = tuple(p for p in os.environ.get("BENCH_PEERS", ",".join(DEFAULT_PEERS)).split(",") if p)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS_DIR / time.strftime("run-%Y%m%dT%H%M%S.jsonl", time.gmtime())
    data_dir = Path(tempfile.mkdtemp(prefix="oppscan-bench-redis-"))
    server = EmbeddedRedis(data_dir, appendonly=False).start()
    run = Run(server.url, rounds, peers, out_path)
    stop = threading.Event()
    sampler = threading.Thread(target=sample_load, args=(run, stop), daemon=True)
    sampler.start()
    started = time.time()
    try:
        for name in selected:
            WORKLOADS[name](run)
    finally:
        stop.set()
        server.stop()
    meta = {
        "started": started,
        "duration_s": round(time.time() - started, 1),
        "rounds": rounds,
        "workloads": selected,
        "peers": list(peers),
        "load_samples": run.load_samples,
        "results": str(out_path.relative_to(ROOT)),
    }
    with out_path.open("a") as out:  # so the tables can be rendered again from the file
        out.write(json.dumps({"meta": meta}) + "\n")
    report.write(run.rows, meta)
    print(f"results: {out_path}; tables: docs/benchmarks.md", flush=True)


if __name__ == "__main__":
    main()
