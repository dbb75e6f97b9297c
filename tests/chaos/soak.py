"""The randomized soak (`make chaos`): random fault schedules over three web
workers and one extra worker process on a private redis-server.

Each round starts a batch of scans (random strategies, one user each), follows
every one to its end (REST pollers, some websockets) while a random schedule of
faults hits the owners, the strategy workers, Redis, the extra worker's network
and the feed. Each round's history goes through the checker. At the end it
prints the count of each violation (all must be zero) and takeover-time
percentiles, and exits non-zero on any violation.

    python -m tests.chaos.soak [--rounds N] [--scans-per-round N] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.store import keys
from coordinator.store.redis_client import connect
from tests.chaos import redis_faults
from tests.chaos.checker import VIOLATIONS, CheckResult, check
from tests.chaos.harness import (
    FAST_ENV,
    LEASE_TTL_S,
    ChaosClient,
    follow_websocket,
    owner_pid,
    ready_everywhere,
    takeover_s,
)
from tests.chaos.history import History, json_lines
from tests.chaos.proxy import RedisProxy
from tests.integration.service import Service, WorkerProcess

WEB_WORKERS = 3
DEFAULT_ROUNDS = 16
DEFAULT_SCANS_PER_ROUND = 32
# Every round kills two owners and stops two others (the takeover samples),
# plus this many faults drawn at random.
MEASURED_FAULTS = ("owner_kill_9", "owner_kill_9", "owner_sigterm", "owner_sigterm")
RANDOM_FAULTS_PER_ROUND = 3
STRATEGY_POOL = (
    "noop",
    "cpu_1ms",
    "sleep_100ms",
    "sleep_500ms",
    "sleep_2s",
    "explode",
    "noop_01",
    "noop_02",
    "sleep_100ms_01",
    "sleep_100ms_02",
)
STRATEGIES_PER_SCAN = (1, 5)
# One reader in this many follows its scan over the websocket, the rest poll.
WEBSOCKET_EVERY = 6
# Pollers of a busy round: gentle enough for two shared cores.
POLL_INTERVAL_S = 0.2
FOLLOW_TIMEOUT_S = 120.0
# Gaps between faults, and how long the timed faults last, in leases.
FAULT_GAP_LEASES = (0.3, 1.5)
REDIS_PAUSE_LEASES = (0.5, 2.0)
PARTITION_LEASES = (1.0, 3.0)
REDIS_DOWN_S = 0.5
SERVING_AGAIN_TIMEOUT_S = 30.0
READY_PROBES = 6
FAULTS = (
    "owner_kill_9",
    "owner_sigterm",
    "owner_sigstop",
    "lease_expired",
    "worker_kill_9",
    "pubsub_kill",
    "redis_pause",
    "redis_kill_9",
    "partition_stall",
    "partition_cut",
    "cancel",
)
PERCENT = 100
# Faults aimed at one running scan (its owner, its lease, its user).
SCAN_FAULTS = frozenset(
    {"owner_kill_9", "owner_sigterm", "owner_sigstop", "lease_expired", "cancel"}
)


@dataclass
class Totals:
    scans: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    # Faults that found no target (no running scan, or its owner already gone).
    missed: Counter[str] = field(default_factory=Counter)
    terminal: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)
    takeovers: dict[str, list[float]] = field(default_factory=lambda: {"kill_9": [], "sigterm": []})
    details: list[str] = field(default_factory=list)


@dataclass
class Pending:
    """A takeover to measure once the round's owner writes are known."""

    kind: str
    scan_id: str
    epoch: int
    fault_mono: float


class Soak:
    def __init__(self, seed: int, workdir: Path) -> None:
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.redis_server = EmbeddedRedis(workdir / "redis")
        self.proxy: RedisProxy | None = None
        self.service: Service | None = None
        self.workers: list[WorkerProcess] = []
        self.totals = Totals()

    # ---- processes ----

    async def setup(self) -> None:
        self.redis_server.start()
        self.proxy = await RedisProxy(self.redis_server.port).start()
        self.service = Service(
            self.redis_server.url, self.workdir / "service.log", env_overrides=dict(FAST_ENV)
        )
        self.service.workers = WEB_WORKERS
        await asyncio.to_thread(self.service.start)
        self.start_worker()

    def start_worker(self) -> WorkerProcess:
        """The extra `worker` process; it reaches Redis through the proxy."""
        assert self.proxy is not None
        worker = WorkerProcess(
            self.proxy.url,
            self.workdir / f"worker-{len(self.workers)}.log",
            env_overrides=dict(FAST_ENV),
        )
        self.workers.append(worker.start())
        return worker

    @property
    def worker(self) -> WorkerProcess:
        return self.workers[-1]

    async def teardown(self) -> None:
        if self.service is not None:
            await asyncio.to_thread(self.service.stop)
        for worker in self.workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.send_signal(signal.SIGCONT)
                # In a thread: its graceful stop talks to Redis through the proxy on this loop.
                await asyncio.to_thread(worker.stop)
        if self.proxy is not None:
            await self.proxy.close()
        self.redis_server.stop()

    def log_lines(self) -> list[dict]:  # type: ignore[type-arg]
        assert self.service is not None
        lines = self.service.log_lines()
        for worker in self.workers:
            lines += json_lines(worker.log_path)
        return lines

    # ---- one round ----

    async def round(self, number: int, scans: int) -> None:
        assert self.service is not None
        history = History()
        client = ChaosClient(self.service.base_url, history, name=f"round-{number}")
        users: dict[str, str] = {}
        followers: list[asyncio.Task[object]] = []
        pending: list[Pending] = []
        try:
            schedule = [*MEASURED_FAULTS]
            schedule += [self.rng.choice(FAULTS) for _ in range(RANDOM_FAULTS_PER_ROUND)]
            self.rng.shuffle(schedule)
            # Scans start in waves, one before each fault, so every fault meets running scans.
            waves = [range(scans)[w :: len(schedule)] for w in range(len(schedule))]
            for fault, wave in zip(schedule, waves, strict=True):
                for n in wave:
                    user = f"soak-{number}-{n}"
                    strategies = self.rng.sample(
                        STRATEGY_POOL, self.rng.randint(*STRATEGIES_PER_SCAN)
                    )
                    scan_id = await client.create(user, strategies)
                    if scan_id is not None:
                        users[scan_id] = user
                        followers.append(
                            asyncio.ensure_future(self.follow(client, n, user, scan_id))
                        )
                await asyncio.sleep(self.rng.uniform(*FAULT_GAP_LEASES) * LEASE_TTL_S)
                hit, measured = await self.inject(fault, client, users)
                (self.totals.faults if hit else self.totals.missed)[fault] += 1
                if measured is not None:
                    pending.append(measured)
            await asyncio.gather(*followers, return_exceptions=True)
            for scan_id, user in users.items():
                await client.record_outcome(user, scan_id)
        finally:
            for follower in followers:
                follower.cancel()
            await client.close()
        history.add_log_lines(line for line in self.log_lines() if line.get("scan_id") in users)
        result = check(history)
        self.account(number, history, result, pending)
        print(
            f"round {number}: {len(users)} scans, faults {schedule}, violations {result.total}",
            flush=True,
        )

    async def follow(self, client: ChaosClient, n: int, user: str, scan_id: str) -> None:
        reader = f"{user}-{'ws' if n % WEBSOCKET_EVERY == 0 else 'poll'}"
        try:
            if n % WEBSOCKET_EVERY == 0:
                await follow_websocket(
                    client.base_url, client.history, reader, user, scan_id, FOLLOW_TIMEOUT_S
                )
            else:
                await client.follow(reader, user, scan_id, FOLLOW_TIMEOUT_S, POLL_INTERVAL_S)
        except AssertionError:
            pass  # never terminal: the checker counts it as not_terminal

    def account(
        self, number: int, history: History, result: CheckResult, pending: list[Pending]
    ) -> None:
        totals = self.totals
        totals.scans += len(history.outcomes)
        totals.violations.update(result.counts)
        totals.details += [f"round {number}: {detail}" for detail in result.details]
        totals.terminal.update(outcome.status for outcome in history.outcomes.values())
        totals.writes.update(write.outcome for write in history.writes)
        for item in pending:
            later = [w for w in history.writes_of(item.scan_id) if w.epoch > item.epoch]
            if later and any(w.outcome == "accepted" for w in later):
                took = takeover_s(history, item.scan_id, item.epoch, item.fault_mono)
                totals.takeovers[item.kind].append(took)

    # ---- faults ----

    async def running_scan(
        self, client: ChaosClient, users: dict[str, str]
    ) -> tuple[str, dict] | None:  # type: ignore[type-arg]
        """A random scan of this round that is running, with its snapshot."""
        candidates = list(users.items())
        self.rng.shuffle(candidates)
        for scan_id, user in candidates:
            body = await client.read("fault-probe", user, scan_id)
            if body and body["status"] == "running" and body.get("owner"):
                return scan_id, body
        return None

    async def signal_owner(self, body: dict, signum: signal.Signals) -> bool:  # type: ignore[type-arg]
        """Signal the scan's owner; False if it is no longer a live process of ours."""
        assert self.service is not None
        pid = owner_pid(body)
        if pid in self.service.worker_pids():
            os.kill(pid, signum)
            return True
        if self.worker.process is not None and pid == self.worker.pid:
            os.kill(pid, signum)
            if signum in (signal.SIGKILL, signal.SIGTERM):
                await asyncio.to_thread(self.worker.process.wait)
                self.start_worker()
            return True
        return False

    async def inject(
        self, fault: str, client: ChaosClient, users: dict[str, str]
    ) -> tuple[bool, Pending | None]:
        """Inject one fault; whether it found its target, and a takeover to measure."""
        if fault in SCAN_FAULTS:
            found = await self.running_scan(client, users)
            if found is None:
                return False, None
            return await self.inject_on_scan(fault, client, users, *found)
        await self.inject_on_processes(fault)
        return True, None

    async def inject_on_scan(
        self,
        fault: str,
        client: ChaosClient,
        users: dict[str, str],
        scan_id: str,
        body: dict,  # type: ignore[type-arg]
    ) -> tuple[bool, Pending | None]:
        lease_s = LEASE_TTL_S
        fault_mono = time.monotonic()
        if fault == "cancel":
            await client.cancel(users[scan_id], scan_id)
        elif fault == "lease_expired":
            redis = connect(self.redis_server.url)
            try:
                await redis.delete(keys.lease(scan_id))
            finally:
                await redis.aclose()
        elif fault == "owner_sigstop":
            if not await self.signal_owner(body, signal.SIGSTOP):
                return False, None
            await asyncio.sleep(2 * lease_s)
            await self.signal_owner(body, signal.SIGCONT)
        else:
            kind = "kill_9" if fault == "owner_kill_9" else "sigterm"
            signum = signal.SIGKILL if kind == "kill_9" else signal.SIGTERM
            if not await self.signal_owner(body, signum):
                return False, None
            return True, Pending(kind, scan_id, body["epoch"], fault_mono)
        return True, None

    async def inject_on_processes(self, fault: str) -> None:
        assert self.service is not None and self.proxy is not None
        lease_s = LEASE_TTL_S
        if fault == "worker_kill_9":
            pids = self.service.worker_pids()
            if pids:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
        elif fault == "pubsub_kill":
            redis = connect(self.redis_server.url)
            try:
                await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            finally:
                await redis.aclose()
        elif fault == "redis_pause":
            redis_faults.pause(self.redis_server)
            await asyncio.sleep(self.rng.uniform(*REDIS_PAUSE_LEASES) * lease_s)
            redis_faults.resume(self.redis_server)
        elif fault == "redis_kill_9":
            redis_faults.kill_9(self.redis_server)
            await asyncio.sleep(REDIS_DOWN_S)
            await asyncio.to_thread(redis_faults.restart, self.redis_server)
            deadline = time.monotonic() + SERVING_AGAIN_TIMEOUT_S
            while not await ready_everywhere(self.service.base_url, READY_PROBES):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(lease_s / 10)
        elif fault in ("partition_stall", "partition_cut"):
            self.proxy.stall() if fault == "partition_stall" else self.proxy.cut()
            await asyncio.sleep(self.rng.uniform(*PARTITION_LEASES) * lease_s)
            self.proxy.heal()

    # ---- the summary ----

    def summary(self, elapsed_s: float) -> str:
        totals = self.totals
        lines = [
            f"soak: {totals.scans} scans in {elapsed_s:.0f} s, lease {LEASE_TTL_S} s",
            f"faults injected: {dict(sorted(totals.faults.items()))}",
            f"faults that found no running target: {dict(sorted(totals.missed.items()))}",
            f"terminal states: {dict(sorted(totals.terminal.items()))}",
            f"owner write attempts: {dict(sorted(totals.writes.items()))}",
            "violations (all must be 0):",
        ]
        lines += [f"  {name:<24} {totals.violations[name]}" for name in VIOLATIONS]
        for kind, samples in totals.takeovers.items():
            lines.append(f"takeover after {kind}: {percentiles(samples)}")
        lines += totals.details[:20]
        return "\n".join(lines)


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)

    def rank(p: int) -> float:
        return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // PERCENT) - 1))]

    return f"n={len(ordered)} p50={rank(50):.2f} s p99={rank(99):.2f} s max={ordered[-1]:.2f} s"


async def soak(rounds: int, scans_per_round: int, seed: int, workdir: Path) -> Soak:
    run = Soak(seed, workdir)
    try:
        await run.setup()
        for number in range(rounds):
            await run.round(number, scans_per_round)
    finally:
        await run.teardown()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--scans-per-round", type=int, default=DEFAULT_SCANS_PER_ROUND)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    print(f"seed {args.seed}", flush=True)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="oppscan-soak-"))
    run = asyncio.run(soak(args.rounds, args.scans_per_round, args.seed, workdir))
    print(run.summary(time.monotonic() - started))
    if sum(run.totals.violations.values()):
        print(f"logs of the processes kept in {workdir}")
        sys.exit(1)
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
