"""An owner whose lease was lost drops its actor at once, even with nothing to publish."""

from __future__ import annotations

from redis.asyncio import Redis

from coordinator import keys
from coordinator.lease import LeaseStore
from coordinator.scripts import Scripts
from tests.support import eventually, make_settings

# Well under the scan deadline (30 s in make_settings): only the lease loss explains an exit.
DROP_TIMEOUT_S = 5.0


async def test_owner_drops_the_actor_when_its_lease_is_taken_with_no_mail(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    # No strategy runs anywhere, so the mailbox stays empty and the ex-owner has
    # nothing to publish: the loss itself must make it stop.
    owner = await coordinator_factory(settings, run_strategies=False)
    created = await scans_for(settings, owner).create("alice", ["sleep_2s"], None, None)
    scan_id = created.snapshot.scan_id

    async def owned() -> bool:
        return scan_id in owner.actors or await owner.adopt(scan_id)

    await eventually(owned, what="the first owner")
    await redis.delete(keys.lease(scan_id))  # stands in for a clock jump expiring the lease
    thief = LeaseStore(
        redis, Scripts(redis), make_settings(redis_url=settings.redis_url, worker_id="b:2")
    )
    assert await thief.acquire(scan_id) is not None

    async def dropped() -> bool:
        return scan_id not in owner.actors

    await eventually(dropped, timeout_s=DROP_TIMEOUT_S, what="the ex-owner to drop its actor")
