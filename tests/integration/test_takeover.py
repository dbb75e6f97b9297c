"""Faults on real worker processes: the owner of a running scan is killed,
paused, or asked to stop; the scan completes once on another worker."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.integration.client import ScanClient, owner_pid, running_with_one_report
from tests.redis_cluster import TOPOLOGIES
from tests.support import eventually

pytestmark = pytest.mark.processes

LEASE_TTL_MS = 1500
# Long enough that the scan is still running when the fault hits.
STRATEGIES = ["noop", "sleep_2s", "sleep_2s", "sleep_2s"]


async def epoch_above(
    client: ScanClient, user: str, scan_id: str, epoch: int, timeout_s: float
) -> dict:  # type: ignore[type-arg]
    async def probe():  # type: ignore[no-untyped-def]
        body = await client.read(user, scan_id)
        return body if body and body["epoch"] > epoch else None

    return await eventually(probe, timeout_s=timeout_s, interval_s=0.01, what="a new owner")


def runs_of(service, scan_id: str, strategy: str) -> int:  # type: ignore[no-untyped-def]
    return len(
        [
            line
            for line in service.log_lines("strategy_run")
            if line.get("scan_id") == scan_id and line.get("strategy") == strategy
        ]
    )


async def check_completed_once(service, client: ScanClient, user: str, scan_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    final = await client.follow(user, scan_id, timeout_s=30)
    assert final["status"] == "completed"
    assert runs_of(service, scan_id, "noop") == 1, "a strategy that had reported ran again"
    assert (
        client.log.not_found == 0 and client.log.server_errors == 0 and client.log.backwards == []
    )
    return final


@pytest.mark.parametrize("redis_topology", TOPOLOGIES, indirect=True)
async def test_kill_9_of_the_owner_hands_the_scan_to_another_worker(
    start_service, redis_topology
) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=3, LEASE_TTL_MS=str(LEASE_TTL_MS))
    client = ScanClient(service.base_url)
    try:
        created = await client.start("alice", STRATEGIES)
        body = await running_with_one_report(client, "alice", created["scan_id"])
        victim = owner_pid(body)
        killed_at = time.monotonic()
        service.signal_worker(victim, signal.SIGKILL)
        taken = await epoch_above(client, "alice", created["scan_id"], body["epoch"], timeout_s=20)
        takeover_s = time.monotonic() - killed_at
        assert owner_pid(taken) != victim
        final = await check_completed_once(service, client, "alice", created["scan_id"])
        print(
            f"\n{redis_topology} Redis: kill -9 takeover after {takeover_s:.2f} s "
            f"(lease {LEASE_TTL_MS} ms); "
            f"final epoch {final['epoch']}"
        )
    finally:
        await client.close()


async def test_paused_owner_is_fenced_when_it_resumes(start_service) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=3, LEASE_TTL_MS=str(LEASE_TTL_MS))
    client = ScanClient(service.base_url)
    try:
        created = await client.start("alice", STRATEGIES)
        scan_id = created["scan_id"]
        body = await running_with_one_report(client, "alice", scan_id)
        victim = owner_pid(body)
        service.signal_worker(victim, signal.SIGSTOP)
        await asyncio.sleep(2 * LEASE_TTL_MS / 1000)  # the fault itself: paused for twice the lease
        taken = await epoch_above(client, "alice", scan_id, body["epoch"], timeout_s=20)
        service.signal_worker(victim, signal.SIGCONT)
        final = await check_completed_once(service, client, "alice", scan_id)
        assert final["epoch"] == taken["epoch"] or final["epoch"] > body["epoch"]

        def fenced():  # type: ignore[no-untyped-def]
            return [
                line
                for line in service.log_lines()
                if line.get("scan_id") == scan_id
                and line.get("event") in ("scan_actor_fenced", "lease_lost")
                and str(victim) in str(line.get("worker_id"))
            ]

        await eventually(
            lambda: _async(fenced()), timeout_s=10, what="the paused owner to fence itself"
        )
        for _ in range(20):  # the resumed ex-owner must never write again
            again = await client.read("alice", scan_id)
            assert again["version"] == final["version"] and again["epoch"] == final["epoch"]
    finally:
        await client.close()


async def test_sigterm_hands_over_without_waiting_for_the_lease(start_service) -> None:  # type: ignore[no-untyped-def]
    long_lease_ms = 20_000  # only a release on shutdown explains a takeover before this
    service = start_service(workers=3, LEASE_TTL_MS=str(long_lease_ms))
    client = ScanClient(service.base_url)
    try:
        created = await client.start("alice", STRATEGIES)
        body = await running_with_one_report(client, "alice", created["scan_id"])
        victim = owner_pid(body)
        signalled_at = time.monotonic()
        service.signal_worker(victim, signal.SIGTERM)
        taken = await epoch_above(
            client, "alice", created["scan_id"], body["epoch"], timeout_s=long_lease_ms / 1000 / 2
        )
        handoff_s = time.monotonic() - signalled_at
        assert owner_pid(taken) != victim
        await check_completed_once(service, client, "alice", created["scan_id"])
        print(f"\nSIGTERM handoff after {handoff_s:.2f} s (lease {long_lease_ms} ms)")
    finally:
        await client.close()


async def _async(value):  # type: ignore[no-untyped-def]
    return value
