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

from coordinator import keys
from coordinator.redis_client import connect
from tests.chaos.checker import check
from tests.chaos.harness import LEASE_TTL_S, ChaosClient, owner_pid, takeover_s
from tests.chaos.history import History
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

# Long enough that the scan is still running when the fault hits.
STRATEGIES = ["noop", "sleep_2s", "sleep_500ms", "sleep_100ms"]
FOLLOW_TIMEOUT_S = 30.0
# A SIGTERM handoff is a release, not an expiry: well under the lease.
SIGTERM_HANDOFF_LIMIT_S = 1.0


class Run:
    """One scan under one fault, with a poller following it throughout."""

    def __init__(self, service: Service, user: str) -> None:
        self.service = service
        self.user = user
        self.history = History()
        self.client = ChaosClient(service.base_url, self.history, name=user)
        self.scan_id = ""
        self.follower: asyncio.Task[dict] | None = None  # type: ignore[type-arg]

    async def start(self, strategies: list[str]) -> dict:  # type: ignore[type-arg]
        created = await self.client.create(self.user, strategies)
        assert created is not None, "the scan was not created"
        self.scan_id = created
        self.follower = asyncio.ensure_future(
            self.client.follow(f"{self.user}-poller", self.user, created, FOLLOW_TIMEOUT_S)
        )
        return await self.running_with_a_report()

    async def running_with_a_report(self) -> dict:  # type: ignore[type-arg]
        async def probe():  # type: ignore[no-untyped-def]
            body = await self.client.read(f"{self.user}-probe", self.user, self.scan_id)
            ready = (
                body and body["status"] == "running" and body["progress"]["strategies_completed"]
            )
            return body if ready else None

        return await eventually(probe, timeout_s=20, what="scan running with a report")

    async def finish(self) -> dict:  # type: ignore[type-arg]
        """Wait for the end, read the outcome, load the owners' writes, run the checker."""
        assert self.follower is not None
        final = await self.follower
        await self.client.record_outcome(self.user, self.scan_id)
        self.history.add_log_lines(
            line for line in self.service.log_lines() if line.get("scan_id") == self.scan_id
        )
        result = check(self.history)
        result.assert_clean()
        return final

    async def close(self) -> None:
        if self.follower is not None and not self.follower.done():
            self.follower.cancel()
        await self.client.close()

    def writes_by(self, pid: int, epoch: int) -> list[str]:
        return [
            write.outcome
            for write in self.history.writes_of(self.scan_id)
            if write.worker.endswith(f":{pid}") and write.epoch == epoch
        ]


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
        return [
            line
            for line in fault_service.log_lines("scan_actor_fenced")
            if line.get("scan_id") == run.scan_id
            and str(line.get("worker_id")).endswith(f":{victim}")
        ]

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
    assert took_s < SIGTERM_HANDOFF_LIMIT_S
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
        return [
            line
            for line in fault_service.log_lines("scan_actor_fenced")
            if line.get("scan_id") == run.scan_id
            and str(line.get("worker_id")).endswith(f":{victim}")
        ]

    await eventually(as_probe(dropped), timeout_s=10, what="the old owner to drop its actor")
    print(f"\nS11 lease key deleted: takeover {took_s:.2f} s (lease {LEASE_TTL_S} s)")


async def run_events(service: Service, user: str, scan_id: str) -> list[tuple[str, int]]:
    client = ChaosClient(service.base_url, History())
    try:
        return [(e["event"], e.get("epoch")) for e in await client.lifecycle(user, scan_id)]
    finally:
        await client.close()


def as_probe(found: Callable[[], list]) -> Callable[[], Awaitable[list]]:  # type: ignore[type-arg]
    async def probe() -> list:  # type: ignore[type-arg]
        return found()

    return probe
