"""Many scans on the Procfile's `web` process (gunicorn, 3 workers): every read
from a fresh connection on any worker tells the truth."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.integration.client import ScanClient
from tests.redis_cluster import TOPOLOGIES

pytestmark = pytest.mark.processes

SCANS = 200
# Requests in flight at once; enough to spread over the workers on 2 cores.
CONCURRENCY = 24
STRATEGIES = ["noop", "cpu_1ms", "sleep_100ms"]
DEADLINE_S = 30


@pytest.mark.parametrize("redis_topology", TOPOLOGIES, indirect=True)
async def test_200_scans_polled_from_fresh_connections(start_service, redis_topology) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=3, SCAN_DEADLINE_S=str(DEADLINE_S), RESULT_RETENTION_S="600")
    client = ScanClient(service.base_url)
    gate = asyncio.Semaphore(CONCURRENCY)
    durations: list[float] = []

    async def one(index: int) -> None:
        user = f"user-{index}"
        async with gate:
            began = time.monotonic()
            created = await client.start(user, STRATEGIES)
            assert created["progress"]["total_strategies"] == len(STRATEGIES)
            await client.read(user, created["scan_id"])  # at once, from a fresh connection
            final = await client.follow(user, created["scan_id"], timeout_s=DEADLINE_S)
            durations.append(time.monotonic() - began)
            assert final["status"] == "completed", final
            status, results = await client.results(user, created["scan_id"])
            assert status == 200 and len(results["opportunities"]) == 1

    try:
        await asyncio.gather(*(one(index) for index in range(SCANS)))
    finally:
        await client.close()
    log = client.log
    print(
        f"\n{redis_topology} Redis: {SCANS} scans, {log.reads} reads, "
        f"not_found={log.not_found}, 5xx={log.server_errors}, "
        f"p50 {sorted(durations)[len(durations) // 2]:.3f}s max {max(durations):.3f}s"
    )
    assert log.not_found == 0
    assert log.server_errors == 0
    assert log.zero_totals == 0
    assert log.backwards == []
    owners = {line["worker_id"] for line in service.log_lines("scan_actor_started")}
    assert len(owners) == 3, f"scans were owned by {owners}; expected all 3 workers"
    # Metrics are merged across the gunicorn workers (multiprocess mode): any
    # worker's /metrics counts every scan.
    metrics = await fetch_metrics(service.base_url)
    assert metrics["oppscan_scans_started_total"] == SCANS
    assert metrics['oppscan_scans_finished_total{status="completed"}'] == SCANS


async def fetch_metrics(base_url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/metrics") as response:
        text = await response.text()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values
