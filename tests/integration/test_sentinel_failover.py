"""A Sentinel switchover under load: the primary is replaced by its replica while
scans run; every scan completes once, no reader sees not_found or a version
going back, and a request that meets the switch gets a 503, never a 500.

The switchover is the planned kind (writes paused until the replica holds them
all); an unplanned failover of asynchronous replication can lose the last
acknowledged writes, which no client can prevent (see README, Redis topologies)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.client import ScanClient
from tests.redis_cluster import SENTINEL

pytestmark = pytest.mark.processes

SCANS = 40
# Slow enough that the failover lands while most scans are running.
STRATEGIES = ["noop", "sleep_500ms", "sleep_2s"]
DEADLINE_S = 60
STARTED_BEFORE_FAILOVER = SCANS // 2
# A test client retries a 503 sooner than Retry-After says, to keep the test short.
RETRY_S = 0.1


async def start_retrying(client: ScanClient, user: str) -> dict:  # type: ignore[type-arg]
    """Start a scan as a well-behaved client does: a 503 during the switch is retried."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        async with client.session.post(
            f"{client.base_url}/api/v1/scans",
            json={"strategies": STRATEGIES},
            headers=client.headers(user),
        ) as response:
            if response.status != 503:
                assert response.status in (200, 202), await response.text()
                return await response.json()  # type: ignore[no-any-return]
            assert response.headers.get("Retry-After"), "a 503 must say when to retry"
        await asyncio.sleep(RETRY_S)
    raise AssertionError(f"no scan started for {user} within {DEADLINE_S} s")


@pytest.mark.parametrize("redis_topology", [SENTINEL], indirect=True)
async def test_scans_complete_across_a_sentinel_switchover(  # type: ignore[no-untyped-def]
    start_service, redis_sentinel, redis_topology
) -> None:
    service = start_service(workers=3, SCAN_DEADLINE_S=str(DEADLINE_S))
    client = ScanClient(service.base_url)
    started = asyncio.Event()
    created_count = 0

    async def one(index: int) -> dict:  # type: ignore[type-arg]
        nonlocal created_count
        user = f"failover-user-{index}"
        created = await start_retrying(client, user)
        created_count += 1
        if created_count >= STARTED_BEFORE_FAILOVER:
            started.set()
        return await client.follow(user, created["scan_id"], timeout_s=DEADLINE_S)

    async def fail_over() -> float:
        await started.wait()
        began = time.monotonic()
        await asyncio.to_thread(redis_sentinel.switchover)
        return time.monotonic() - began

    try:
        scans = [asyncio.ensure_future(one(index)) for index in range(STARTED_BEFORE_FAILOVER)]
        switch_s = await fail_over()
        scans += [
            asyncio.ensure_future(one(index)) for index in range(STARTED_BEFORE_FAILOVER, SCANS)
        ]
        finals = await asyncio.gather(*scans)
    finally:
        await client.close()
    statuses = [line["status"] for line in service.log_lines("http_request")]
    unavailable = statuses.count(503)
    print(
        f"\nsentinel switchover in {switch_s:.2f} s: {SCANS} scans, {client.log.reads} reads, "
        f"not_found={client.log.not_found}, 503s={unavailable}"
    )
    assert [final["status"] for final in finals] == ["completed"] * SCANS
    assert client.log.not_found == 0 and client.log.backwards == []
    assert [status for status in statuses if status >= 500 and status != 503] == []
    assert redis_sentinel.current_primary_port() == redis_sentinel.replica_port
    for final in finals:
        assert final["progress"]["strategies_completed"] == len(STRATEGIES), final
