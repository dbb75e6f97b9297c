"""Workload 5, scale (reduced by default: SCANS concurrent running scans; the target's
10,000 with BENCH_SCALE_SCANS=10000): scans whose strategy waits on simulated
market-data latency stay running, owned and leased, on 2 web workers + 1 worker.

Measured: leases lost without a fault (scans at an epoch above 1 after HOLD_S), the
web workers' event-loop lag during the hold (the p99 bucket of the service's own
`oppscan_event_loop_lag_seconds` histogram, from /metrics before and after), the p99
latency of GET /healthz every PROBE_EVERY_S meanwhile (lag plus one HTTP round trip,
from outside), RSS per process, Redis memory per running scan, and the retained keys
of a finished (cancelled) scan with MEMORY USAGE, results excluded.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from bench.adapters.costs import redis_url
from bench.stats import latency_summary
from coordinator.store import keys

SCANS = 2000
SUBMIT_CONCURRENCY = 16
HOLD_S = 15.0
PROBE_EVERY_S = 0.01
MEMORY_SAMPLE = 20
FINISH_TIMEOUT_S = 120.0
POLL_S = 0.2
BYTES_PER_KB = 1024
BYTES_PER_MB = 1024 * 1024
LOOP_LAG_SERIES = "oppscan_event_loop_lag_seconds"
P99 = 0.99
MS_PER_S = 1000


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) * BYTES_PER_KB / BYTES_PER_MB, 1)
    except FileNotFoundError:
        return None
    return None


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def epochs(redis: Redis, scan_ids: list[str]) -> list[tuple[int, str]]:
    async with redis.pipeline(transaction=False) as pipe:
        for scan_id in scan_ids:
            pipe.hmget(keys.scan(scan_id), ["epoch", "status"])
        replies = await pipe.execute()
    return [(int(epoch or 0), (status or b"").decode()) for epoch, status in replies]


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    scans = int(params.get("scans", SCANS))
    redis = Redis.from_url(redis_url())
    before = await used_memory(redis)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(scans):
        queue.put_nowait(n)
    started: list[tuple[str, str]] = []

    async def submitter() -> None:
        while not queue.empty():
            user = f"scale-{queue.get_nowait()}"
            started.append((user, await client.submit(user, ["noop_01"])))

    begun = time.monotonic()
    await asyncio.gather(*(submitter() for _ in range(SUBMIT_CONCURRENCY)))
    submit_s = time.monotonic() - begun
    lag_before = await loop_lag_buckets(client)
    probes = await probe_health(client, HOLD_S)
    lag_after = await loop_lag_buckets(client)
    ids = [scan_id for _user, scan_id in started]
    held = await epochs(redis, ids)
    running = sum(1 for _epoch, status in held if status == "running")
    active_bytes = (await used_memory(redis) - before) / max(scans, 1)
    rss = {str(pid): rss_mb(int(pid)) for pid in params.get("pids", [])}
    # Bounded like the submissions: 10,000 sockets at once overflow the listen backlog.
    gate = asyncio.Semaphore(SUBMIT_CONCURRENCY)

    async def cancel(user: str, scan_id: str) -> None:
        async with gate:
            await client.cancel(user, scan_id)

    await asyncio.gather(*(cancel(user, scan_id) for user, scan_id in started))
    finished = await wait_terminal(redis, ids)
    retained = await retained_bytes(redis, ids[:MEMORY_SAMPLE])
    after = await epochs(redis, ids)
    await redis.aclose()
    return {
        "scans": scans,
        "submit_s": round(submit_s, 1),
        "running_after_hold": running,
        "leases_lost": sum(1 for epoch, _status in after if epoch > 1),
        "loop_lag_p99_ms_at_most": p99_bound_ms(lag_before, lag_after),
        "health_probe": latency_summary(probes),
        "rss_mb": rss,
        "redis_bytes_per_running_scan": round(active_bytes),
        "finished": finished,
        "redis_bytes_per_finished_scan": round(retained),
    }


async def loop_lag_buckets(client: Any) -> dict[float, float]:
    """Cumulative counts of the loop-lag histogram by upper bound (s), all web workers."""
    async with client.session.get(f"{client.base_url}/metrics") as response:
        text = await response.text()
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != LOOP_LAG_SERIES:
            continue
        for sample in family.samples:
            if sample.name == f"{LOOP_LAG_SERIES}_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def p99_bound_ms(before: dict[float, float], after: dict[float, float]) -> float | None:
    """The smallest bucket bound holding 99 % of the observations made in between."""
    delta = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = delta.get(math.inf, 0.0)
    if total <= 0:
        return None
    for bound, cumulative in delta.items():
        if cumulative >= P99 * total:
            return bound * MS_PER_S
    return None


async def probe_health(client: Any, hold_s: float) -> list[float]:
    latencies = []
    end = time.monotonic() + hold_s
    while time.monotonic() < end:
        begun = time.monotonic()
        async with client.session.get(f"{client.base_url}/healthz") as response:
            await response.read()
        latencies.append(time.monotonic() - begun)
        await asyncio.sleep(PROBE_EVERY_S)
    return latencies


async def wait_terminal(redis: Redis, ids: list[str]) -> int:
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    done = 0
    while time.monotonic() < deadline:
        states = await epochs(redis, ids)
        done = sum(1 for _epoch, status in states if status not in ("running", "queued"))
        if done == len(ids):
            break
        await asyncio.sleep(POLL_S)
    return done


async def retained_bytes(redis: Redis, sample: list[str]) -> float:
    """MEMORY USAGE of a finished scan's keys (results excluded), averaged over a sample."""
    total = 0
    for scan_id in sample:
        for key in (
            keys.scan(scan_id),
            keys.mailbox(scan_id),
            keys.lifecycle(scan_id),
            keys.tombstone(scan_id),
            keys.lease(scan_id),
        ):
            total += int(await redis.memory_usage(key, samples=0) or 0)
    return total / max(len(sample), 1)
