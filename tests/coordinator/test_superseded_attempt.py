"""A strategy attempt that was superseded (its task reclaimed by another worker
while it ran) must not acknowledge the task: its own late report is dropped by
the fold, so if the newer attempt dies too, only the still-pending task lets a
third worker run the strategy. Found by the chaos soak: scans stuck `running`
until their deadline after a pause and a kill."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.store import keys
from coordinator.store.codec import snapshot_decoder
from coordinator.store.records import TERMINAL_SCAN_STATUSES, ScanStatus, Started
from coordinator.store.work import WorkQueue
from tests.support import StaticProvider, diagnostic_registry, eventually, owned_scan


async def test_superseded_attempt_leaves_the_task_for_a_retry_when_the_newer_one_dies(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner = await coordinator_factory(settings, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(settings, owner), ["noop"])
    bucket = keys.bucket_of(scan_id, settings.index_buckets)
    first_settings = msgspec.structs.replace(settings, worker_id="first:1")
    first = WorkQueue(redis, first_settings)
    [task] = await first.take(bucket, 1, settings.work_block_ms)
    second = WorkQueue(redis, msgspec.structs.replace(settings, worker_id="second:2"))

    async def reclaimed():  # type: ignore[no-untyped-def]
        return await second.reclaim(bucket, 1)

    [newer] = await eventually(reclaimed, what="the task reclaimed from the slow first worker")
    assert newer.delivery == 2
    # The second attempt starts, then its worker dies before reporting.
    await owner.mailbox.append(
        scan_id, Started(strategy="noop", attempt=2, worker="second:2", at_ms=0)
    )
    runner = StrategyRunner(
        redis, owner.mailbox, first, diagnostic_registry(), StaticProvider(), first_settings
    )
    try:
        await runner.run([task])  # the first attempt finishes late: its report is superseded
    finally:
        runner.close()  # its strategy threads
    await coordinator_factory(
        msgspec.structs.replace(settings, worker_id="third:3"), run_strategies=True
    )

    async def ended():  # type: ignore[no-untyped-def]
        raw = await redis.hget(keys.scan(scan_id), "snap")
        snapshot = snapshot_decoder.decode(raw)
        return snapshot if snapshot.status in TERMINAL_SCAN_STATUSES else None

    final = await eventually(ended, what="a third attempt to finish the strategy")
    assert final.status == ScanStatus.COMPLETED
    assert [(s.name, s.attempt) for s in final.strategies] == [("noop", 3)]
