"""An owner whose lease was lost drops its actor at once, even with nothing to
publish, and its scan is claimable at once, not a lease TTL later."""

from __future__ import annotations

import msgspec
import pytest
import structlog.testing
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from coordinator.actor.lease import LeaseStore
from coordinator.process.clock import now_ms
from coordinator.store import keys
from coordinator.store.records import ScanStatus, Started
from tests.support import eventually, make_settings, owned_scan

# Well under the scan deadline (30 s in make_settings): only the lease loss explains an exit.
DROP_TIMEOUT_S = 5.0


async def test_owner_drops_the_actor_when_its_lease_is_taken_with_no_mail(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    # No strategy runs anywhere, so the mailbox stays empty and the ex-owner has
    # nothing to publish: the loss itself must make it stop.
    owner = await coordinator_factory(settings, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(settings, owner), ["sleep_2s"])
    await redis.delete(keys.lease(scan_id))  # stands in for a clock jump expiring the lease
    thief = LeaseStore(redis, make_settings(redis_url=settings.redis_url, worker_id="b:2"))
    assert await thief.acquire(scan_id) is not None

    async def dropped() -> bool:
        return scan_id not in owner.owned.actors

    await eventually(dropped, timeout_s=DROP_TIMEOUT_S, what="the ex-owner to drop its actor")


# Renewed every 3 s: the old owner notices the loss within that, while the lease
# index would only call the scan lapsed 9 s after the refused renewal.
SLOW_LEASE_TTL_MS = 9000
PROMPT_TAKEOVER_S = SLOW_LEASE_TTL_MS / 1000 / 2


async def lease_lost_under_an_owner(redis: Redis, settings, coordinator_factory, scans_for):  # type: ignore[no-untyped-def]
    """An owner and a rival worker, both slow to renew; the owner's lease is gone
    (a clock jump on the Redis host). Returns (owner, rival, scan_id)."""
    slow = msgspec.structs.replace(settings, lease_ttl_ms=SLOW_LEASE_TTL_MS)
    owner = await coordinator_factory(slow, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(slow, owner), ["sleep_2s"])
    rival = await coordinator_factory(
        msgspec.structs.replace(slow, worker_id="b:2"), run_strategies=False
    )
    await redis.delete(keys.lease(scan_id))
    return owner, rival, scan_id


async def taken_over_before_the_ttl(redis: Redis, scan_id: str, owner, rival) -> None:  # type: ignore[no-untyped-def]
    async def taken() -> bool:
        # Either worker may win the next epoch (the old owner's sweeper too).
        epoch = await redis.hget(keys.lease(scan_id), "epoch")
        owners = owner.owned.actors | rival.owned.actors
        return epoch is not None and int(epoch) == 2 and scan_id in owners

    await eventually(taken, timeout_s=PROMPT_TAKEOVER_S, what="a takeover before the TTL")


async def test_scan_whose_lease_expired_early_is_taken_over_without_waiting_a_ttl(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner, rival, scan_id = await lease_lost_under_an_owner(
        redis, settings, coordinator_factory, scans_for
    )
    await taken_over_before_the_ttl(redis, scan_id, owner, rival)


async def test_owner_fenced_at_publish_makes_its_scan_claimable_at_once(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    """The loss is found by a fenced publish (mail came in), not by a renewal."""
    owner, rival, scan_id = await lease_lost_under_an_owner(
        redis, settings, coordinator_factory, scans_for
    )
    # Mail makes the owner publish now, so its write is fenced before its next renewal.
    await owner.mailbox.append(
        scan_id, Started(strategy="sleep_2s", attempt=1, worker="w:9", at_ms=now_ms())
    )
    await taken_over_before_the_ttl(redis, scan_id, owner, rival)


NO_SWEEP_INTERVAL_MS = 600_000


async def test_a_lease_acquired_while_stopping_is_handed_back_at_once(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner = await coordinator_factory(settings, run_strategies=False)
    # Let the first owner-to-be finish acquiring while the coordinator stops. Its
    # own sweeper runs once, at start, while the scan is still owned: the test's
    # adopt below is the only one.
    no_sweeps = msgspec.structs.replace(
        settings, worker_id="candidate:2", sweep_interval_ms=NO_SWEEP_INTERVAL_MS
    )
    scan_id = await owned_scan(owner, scans_for(settings, owner), ["sleep_2s"])
    candidate = await coordinator_factory(no_sweeps, run_strategies=False, start=False)
    sweep, swept = candidate.sweeper.sweep, []

    async def counted_sweep() -> None:
        await sweep()
        swept.append(True)

    candidate.sweeper.sweep = counted_sweep  # type: ignore[method-assign]
    await candidate.start()

    async def first_sweep_done() -> bool:
        return bool(swept)

    await eventually(first_sweep_done, what="the candidate's one sweep, while owned")
    await owner.stop()
    acquire = candidate.leases.acquire

    acquired_while_stopping = []

    async def acquire_then_stop(scan: str):  # type: ignore[no-untyped-def]
        acquired = await acquire(scan)
        acquired_while_stopping.append(acquired)
        await candidate.stop()
        return acquired

    candidate.leases.acquire = acquire_then_stop  # type: ignore[method-assign]
    assert not await candidate.owned.adopt(scan_id)
    assert scan_id not in candidate.owned.actors
    assert acquired_while_stopping and acquired_while_stopping[0] is not None
    assert not await redis.exists(keys.lease(scan_id)), "the lease was kept until its TTL"


# Renewed every 20 s: no periodic renewal runs during the next test.
QUIET_LEASE_TTL_MS = 60_000


@pytest.mark.parametrize("finished", [True, False])
async def test_a_lease_deleted_by_the_final_publish_is_not_reported_lost(
    redis: Redis, settings, coordinator_factory, scans_for, finished: bool
) -> None:  # type: ignore[no-untyped-def]
    """A renewal that races an actor's terminal publish (which deletes the lease) must
    not warn `lease_lost` for a scan that simply finished; a running scan's loss still
    warns and fences the actor at once."""
    # A long lease: the periodic renewal stays out of the way of the one called here.
    settings = msgspec.structs.replace(settings, lease_ttl_ms=QUIET_LEASE_TTL_MS)
    owner = await coordinator_factory(settings, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(settings, owner), ["sleep_2s"])
    actor = owner.owned.actors[scan_id]
    if finished:
        actor.view.snapshot.status = ScanStatus.COMPLETED  # published; not yet retired
    await redis.delete(keys.lease(scan_id))

    with structlog.testing.capture_logs() as logs:
        await owner.owned.renew_leases()

    warned = [line for line in logs if line["event"] == "lease_lost"]
    assert bool(warned) is not finished
    assert (actor.lease.local_deadline == 0.0) is not finished


async def test_an_idle_owner_whose_renewals_fail_ends_its_actor_when_the_lease_lapses(
    redis: Redis, settings, coordinator_factory, scans_for, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Idle actors arm no timer for their lease: the renewal duty, failing here as with
    # Redis unreachable for renewals, must still wake the actor once its lease lapsed
    # by our clock, so it fences itself and leaves (not at the scan's deadline).
    owner = await coordinator_factory(settings, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(settings, owner), ["sleep_2s"])

    async def refused(leases):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("renewals cannot reach Redis")

    monkeypatch.setattr(owner.leases, "renew_all", refused)

    async def dropped() -> bool:
        return scan_id not in owner.owned.actors

    await eventually(dropped, timeout_s=DROP_TIMEOUT_S, what="the lapsed owner to drop its actor")
