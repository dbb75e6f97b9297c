"""Strategy work: any worker runs it; a dead consumer's work is reclaimed; a
task that keeps dying is recorded failed after the bounded deliveries."""

from __future__ import annotations

from redis.asyncio import Redis

from coordinator.store import keys
from coordinator.store.codec import snapshot_decoder
from coordinator.store.records import ScanStatus, StrategyStatus
from tests.support import eventually, make_settings


async def read_snapshot(redis: Redis, scan_id: str):  # type: ignore[no-untyped-def]
    raw = await redis.hget(keys.scan(scan_id), "snap")
    return snapshot_decoder.decode(raw) if raw else None


async def terminal_snapshot(redis: Redis, scan_id: str):  # type: ignore[no-untyped-def]
    async def probe():  # type: ignore[no-untyped-def]
        snapshot = await read_snapshot(redis, scan_id)
        return (
            snapshot
            if snapshot
            and snapshot.status != ScanStatus.RUNNING
            and snapshot.status != ScanStatus.QUEUED
            else None
        )

    return await eventually(probe, what=f"scan {scan_id} terminal")


async def steal(redis: Redis, settings, consumer: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    """A consumer that takes every waiting task and then dies without acknowledging."""
    taken = []
    for bucket in range(settings.index_buckets):
        reply = await redis.xreadgroup(
            keys.WORK_GROUP, consumer, {keys.work_stream(bucket): ">"}, count=100
        )
        for _stream, entries in reply or []:
            taken.extend(entry_id for entry_id, _ in entries)
    return taken


async def test_any_worker_runs_work_and_the_scan_completes(
    redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    coordinator = await coordinator_factory(settings)
    scans = scans_for(settings, coordinator)
    created = await scans.create("alice", ["noop", "sleep_100ms", "explode"], None, None)
    final = await terminal_snapshot(redis, created.snapshot.scan_id)
    assert final.status == ScanStatus.COMPLETED
    statuses = {item.name: item.status for item in final.strategies}
    assert statuses == {
        "noop": StrategyStatus.COMPLETED,
        "sleep_100ms": StrategyStatus.COMPLETED,
        "explode": StrategyStatus.FAILED,
    }
    assert "DiagnosticFailure" in next(i.error for i in final.strategies if i.name == "explode")


async def test_dead_consumers_work_is_reclaimed_and_applied_once(
    redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner = await coordinator_factory(settings, run_strategies=False)
    scans = scans_for(settings, owner)
    created = await scans.create("alice", ["sleep_100ms", "noop"], None, None)
    scan_id = created.snapshot.scan_id
    assert len(await steal(redis, settings, "dead:1")) == 2
    live = await coordinator_factory(
        make_settings(redis_url=settings.redis_url, worker_id="live:2")
    )
    final = await terminal_snapshot(redis, scan_id)
    assert final.status == ScanStatus.COMPLETED
    assert all(item.attempt == 2 for item in final.strategies)  # delivery 2: the reclaim
    assert final.progress.opportunities_found_so_far == 1  # sleep_100ms's marker, once
    assert live.settings.worker_id == "live:2"


async def test_task_that_keeps_dying_ends_failed_after_bounded_deliveries(
    redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner = await coordinator_factory(settings, run_strategies=False)
    scans = scans_for(settings, owner)
    created = await scans.create("alice", ["noop"], None, None)
    scan_id = created.snapshot.scan_id
    [entry_id] = await steal(redis, settings, "dead:1")
    bucket = keys.bucket_of(scan_id, settings.index_buckets)
    for consumer in ("dead:2", "dead:3"):  # two more deliveries that die too
        await redis.xclaim(keys.work_stream(bucket), keys.WORK_GROUP, consumer, 0, [entry_id])
    await coordinator_factory(
        make_settings(redis_url=settings.redis_url, worker_id="live:2", max_strategy_deliveries=3)
    )
    final = await terminal_snapshot(redis, scan_id)
    assert final.status == ScanStatus.FAILED
    [item] = final.strategies
    assert item.status == StrategyStatus.FAILED
    assert "gave up after 3 deliveries" in item.error

    async def removed() -> bool:
        # Acknowledged (and deleted) just after its report, which may publish first.
        return await redis.xlen(keys.work_stream(bucket)) == 0

    await eventually(removed, what="the task to be acknowledged and removed")


async def test_graceful_stop_hands_scans_over_at_once(
    redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    slow = make_settings(redis_url=settings.redis_url, lease_ttl_ms=60_000)
    first = await coordinator_factory(slow)
    scans = scans_for(slow, first)
    created = await scans.create("alice", ["sleep_2s"], None, None)
    scan_id = created.snapshot.scan_id
    await eventually(
        lambda: first.owned.adopt(scan_id) if scan_id not in first.owned.actors else _true(),
        what="first owner",
    )
    await first.stop()
    second = await coordinator_factory(
        make_settings(redis_url=settings.redis_url, worker_id="b:2", lease_ttl_ms=60_000)
    )
    # With a 60 s lease only a release on stop lets the second worker take over now.
    await eventually(lambda: _owned(second, scan_id), timeout_s=5, what="takeover after release")
    final = await terminal_snapshot(redis, scan_id)
    assert final.status == ScanStatus.COMPLETED and final.epoch == 2


async def _true() -> bool:
    return True


async def _owned(coordinator, scan_id: str) -> bool:  # type: ignore[no-untyped-def]
    return scan_id in coordinator.owned.actors


async def test_dead_consumers_are_forgotten_but_never_one_holding_a_task(redis) -> None:  # type: ignore[no-untyped-def]
    from coordinator.store.work import WorkQueue

    # Dead after 30 silent blocks of 10 ms: 0.3 s.
    quick = make_settings(redis_url="unused", worker_id="self:1", work_block_ms=10, index_buckets=1)
    work = WorkQueue(redis, quick)
    await work.ensure_groups()
    stream = keys.work_stream(0)
    await redis.xadd(stream, {"w": b"task"})
    await redis.xreadgroup(keys.WORK_GROUP, "holder:2", {stream: ">"}, count=1)  # then dies
    for consumer in ("idle:3", "self:1"):  # holding nothing
        await redis.xgroup_createconsumer(stream, keys.WORK_GROUP, consumer)

    async def consumers() -> set[str]:
        infos = await redis.xinfo_consumers(stream, keys.WORK_GROUP)
        return {info["name"].decode() for info in infos}

    assert await consumers() == {"holder:2", "idle:3", "self:1"}

    async def pruned() -> bool:
        await work.prune_consumers()
        return "idle:3" not in await consumers()

    await eventually(pruned, timeout_s=5, what="the idle consumer to be forgotten")
    names = await consumers()
    assert names == {"holder:2", "self:1"}, "a consumer holding a task, or ourselves, was dropped"
    assert len(await redis.xpending_range(stream, keys.WORK_GROUP, "-", "+", 10)) == 1
