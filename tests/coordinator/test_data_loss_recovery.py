"""After Redis lost its data and the operator ran the recovery command, a
worker that kept running serves again: new scans run to the end."""

from __future__ import annotations

from redis.asyncio import Redis

from coordinator.recover import recover
from coordinator.store import keys
from coordinator.store.codec import snapshot_decoder
from coordinator.store.records import TERMINAL_SCAN_STATUSES
from tests.support import eventually


async def test_scans_complete_after_data_loss_and_recovery_without_a_restart(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    coordinator = await coordinator_factory(settings)
    scans = scans_for(settings, coordinator)
    await redis.flushall()  # Redis came back empty: work streams and their groups are gone

    async def closed() -> bool:
        return coordinator.generation.lost

    await eventually(closed, what="the worker to fail closed")
    await recover(settings.redis_url)

    async def resumed() -> bool:
        return not coordinator.generation.lost

    await eventually(resumed, what="the worker to resume")
    created = await scans.create("alice", ["noop"], None, None)

    async def ended():  # type: ignore[no-untyped-def]
        raw = await redis.hget(keys.scan(created.snapshot.scan_id), "snap")
        snapshot = snapshot_decoder.decode(raw) if raw else None
        return snapshot if snapshot and snapshot.status in TERMINAL_SCAN_STATUSES else None

    final = await eventually(ended, what="the new scan to end")
    assert final.status == "completed"
