"""Scenarios 1, 2, 4 and 11: the owner of a running scan is killed, paused,
stopped, or loses its lease key; the scan moves to the next epoch and the
history of the whole run passes the checker."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from coordinator.store import keys
from coordinator.store.redis_client import connect
from tests.chaos.harness import LEASE_TTL_S, ChaosClient, owner_pid, takeover_s
from tests.chaos.history import History
from tests.chaos.scenario import Run, as_probe, run_events, worker_lines
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

# Long enough that the scan is still running when the fault hits.
STRATEGIES = ["noop", "sleep_2s", "sleep_500ms", "sleep_100ms"]


async def run_with_fault(
    service: Service, user: str, fault: Callable[[Run, dict], Awaitable[float]]
) -> tuple[Run, dict, dict, float]:  # type: ignore[type-arg]
    run = Run(service, user)
    try:
        before = await run.start(STRATEGIES)
        fault_mono = await fault(run, before)
        final = await run.finish()
        return run, before, final, takeover_s(run.history, run.scan_id, before["epoch"], fault_mono)
    finally:
        await run.close()


async def fault_free_results(service: Service, user: str) -> tuple[str, list, list]:  # type: ignore[type-arg]
    run = Run(service, user)
    try:
        await run.start(STRATEGIES)
        final = await run.finish()
        _status, results = await run.client.get_json(user, f"/api/v1/scans/{run.scan_id}/results")
        return final["status"], strategy_outcomes(final), results["opportunities"]
    finally:
        await run.close()


def strategy_outcomes(snapshot: dict) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(s["name"], s["status"], s["opportunities"]) for s in snapshot["strategies"]]


async def test_s01_kill_9_of_the_owner_moves_the_scan_to_the_next_epoch_with_the_same_result(
    fault_service: Service,
) -> None:
    async def kill(run: Run, before: dict) -> float:  # type: ignore[type-arg]
        fault_mono = time.monotonic()
        fault_service.signal_worker(owner_pid(before), signal.SIGKILL)
        return fault_mono

    run, before, final, took_s = await run_with_fault(fault_service, "s01-kill", kill)
    assert final["status"] == "completed" and final["epoch"] > before["epoch"]
    assert owner_pid(final) != owner_pid(before)
    reader = ChaosClient(fault_service.base_url, History())
    try:
        _status, results = await reader.get_json("s01-kill", f"/api/v1/scans/{run.scan_id}/results")
    finally:
        await reader.close()
    expected = await fault_free_results(fault_service, "s01-reference")
    assert (final["status"], strategy_outcomes(final), results["opportunities"]) == expected
    print(f"\nS1 kill -9: takeover {took_s:.2f} s (lease {LEASE_TTL_S} s)")


async def test_s02_owner_paused_twice_the_lease_is_fenced_and_drops_the_actor(
    fault_service: Service,
) -> None:
    async def pause(run: Run, before: dict) -> float:  # type: ignore[type-arg]
        victim = owner_pid(before)
        fault_mono = time.monotonic()
        fault_service.signal_worker(victim, signal.SIGSTOP)
        await asyncio.sleep(2 * LEASE_TTL_S)  # the fault itself: stopped for twice the lease
        fault_service.signal_worker(victim, signal.SIGCONT)
        return fault_mono

    run, before, final, took_s = await run_with_fault(fault_service, "s02-pause", pause)
    victim, epoch = owner_pid(before), before["epoch"]
    assert final["status"] == "completed" and final["epoch"] > epoch

    def dropped():  # type: ignore[no-untyped-def]
        return worker_lines(fault_service, "scan_actor_fenced", run.scan_id, victim)

    await eventually(as_probe(dropped), timeout_s=10, what="the resumed ex-owner to drop its actor")
    taken_at = min(w.sent_mono for w in run.history.writes_of(run.scan_id) if w.epoch > epoch)
    late = [
        w for w in run.history.writes_of(run.scan_id) if w.epoch == epoch and w.sent_mono > taken_at
    ]
    assert all(w.outcome != "accepted" for w in late), late
    print(
        f"\nS2 SIGSTOP {2 * LEASE_TTL_S:.1f} s: takeover {took_s:.2f} s, "
        f"ex-owner's late attempts {[w.outcome for w in late]}, accepted 0"
    )


async def test_s04_sigterm_of_the_owner_releases_and_hands_over_at_once(
    fault_service: Service,
) -> None:
    async def terminate(run: Run, before: dict) -> float:  # type: ignore[type-arg]
        fault_mono = time.monotonic()
        fault_service.signal_worker(owner_pid(before), signal.SIGTERM)
        return fault_mono

    run, before, _final, took_s = await run_with_fault(fault_service, "s04-term", terminate)
    events = await run_events(fault_service, "s04-term", run.scan_id)
    epoch = before["epoch"]
    assert ("lease_released", epoch) in events, events
    assert ("taken_over", epoch + 1) in events, events
    assert ("lease_lost", epoch) not in events, (
        "the owner's lease expired instead of being released"
    )
    print(f"\nS4 SIGTERM: handoff {took_s:.2f} s (lease {LEASE_TTL_S} s)")


async def test_s11_lease_key_expired_by_force_means_takeover_and_the_old_owner_fenced(
    fault_service: Service,
) -> None:
    redis: Redis = connect(fault_service.redis_url)

    async def expire(run: Run, before: dict) -> float:  # type: ignore[type-arg]
        fault_mono = time.monotonic()
        await redis.delete(keys.lease(run.scan_id))  # a clock jump on the Redis host
        return fault_mono

    try:
        run, before, final, took_s = await run_with_fault(fault_service, "s11-expire", expire)
    finally:
        await redis.aclose()
    epoch = before["epoch"]
    assert final["status"] == "completed" and final["epoch"] > epoch
    victim = owner_pid(before)

    def dropped():  # type: ignore[no-untyped-def]
        return worker_lines(fault_service, "scan_actor_fenced", run.scan_id, victim)

    await eventually(as_probe(dropped), timeout_s=10, what="the old owner to drop its actor")
    print(f"\nS11 lease key deleted: takeover {took_s:.2f} s (lease {LEASE_TTL_S} s)")
