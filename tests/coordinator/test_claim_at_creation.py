"""On one Redis, the process creating a scan claims it in the same round trip: by
the time the id is handed out, its actor is registered and holds the lease at
epoch 1, so its own consumers run the scan's work knowing the scan is live, and
the scan runs to its end with no separate adoption."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from coordinator.store import keys
from tests.support import eventually

# Scans started one after another, each of whose work the other process could take.
SCANS_CREATED = 4


async def test_the_creating_process_owns_the_scan_when_its_id_is_handed_out(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    coordinator = await coordinator_factory(settings)
    scans = scans_for(settings, coordinator, claiming=True)
    created = await scans.create("alice", ["noop", "noop_01"], None, None)
    scan_id = created.snapshot.scan_id
    assert created.claimed
    assert scan_id in coordinator.owned.actors, "registered before the id is handed out"
    lease = await redis.hgetall(keys.lease(scan_id))
    assert lease[b"worker"].decode() == settings.worker_id and lease[b"epoch"] == b"1"
    index = keys.lease_index(keys.bucket_of(scan_id, settings.index_buckets))
    assert await redis.zscore(index, scan_id) > 0, "indexed with the lease's expiry"

    async def finished() -> bool:
        status = await redis.hget(keys.scan(scan_id), "status")
        return status == b"completed"

    await eventually(finished, what="the claimed scan completed")


async def test_a_process_without_room_leaves_the_new_scan_to_the_sweepers(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    full = msgspec.structs.replace(settings, max_owned_scans=0)
    coordinator = await coordinator_factory(full)
    scans = scans_for(full, coordinator, claiming=True)
    created = await scans.create("alice", ["noop"], None, None)
    assert not created.claimed
    assert not await redis.exists(keys.lease(created.snapshot.scan_id))


async def test_the_creating_process_takes_the_new_scans_work_before_anyone_else(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    creator = await coordinator_factory(settings)
    # Another process whose consumers are blocked on every work stream, waiting.
    await coordinator_factory(msgspec.structs.replace(settings, worker_id="other:2"))
    scans = scans_for(settings, creator, claiming=True)
    for n in range(SCANS_CREATED):
        created = await scans.create(f"user-{n}", ["sleep_500ms", "sleep_100ms_01"], None, None)
        scan_id = created.snapshot.scan_id
        stream = keys.work_stream(keys.bucket_of(scan_id, settings.index_buckets))
        pending = await redis.xpending_range(stream, keys.WORK_GROUP, "-", "+", 100)
        consumers = {entry["consumer"].decode() for entry in pending}
        assert consumers == {settings.worker_id}, f"scan {n}'s work went to {consumers}"
