"""What a strategy attempt writes into its scan's mailbox: a first attempt that
finishes within STARTED_NOTICE_DELAY_MS writes its report alone; one that runs
longer, and every retry, first says it started."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from config.settings import Settings
from coordinator.actor.mailbox import Mailbox
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.codec import mailbox_decoder
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Report, Started
from coordinator.store.work import Task, WorkQueue
from tests.support import StaticProvider, diagnostic_registry

# Far longer than a no-op strategy takes, however loaded the machine.
NEVER_REACHED_MS = 600_000


async def run_first_task(redis: Redis, settings: Settings, *, delivery: int) -> list[type]:
    # No owner folds (and trims) the mailbox here: it keeps what the attempt wrote.
    guard = GenerationGuard(redis)
    await guard.establish()
    scans = Scans(redis, settings, diagnostic_registry(), StaticProvider().symbols(), guard)
    work = WorkQueue(redis, settings)
    await work.ensure_groups()
    scan_id = (await scans.create("alice", ["noop"], None, None)).snapshot.scan_id
    bucket = keys.bucket_of(scan_id, settings.index_buckets)
    [task] = await work.take(bucket, 1, settings.work_block_ms)
    runner = StrategyRunner(
        redis,
        Mailbox(redis),
        work,
        diagnostic_registry(),
        StaticProvider(),
        settings,
    )
    try:
        await runner.run([Task(task.bucket, task.entry_id, task.item, delivery)])
    finally:
        runner.close()  # its strategy threads
    entries = await redis.xrange(keys.mailbox(scan_id))
    return [type(mailbox_decoder.decode(fields[b"m"])) for _id, fields in entries]


@pytest.mark.parametrize(
    ("delay_ms", "delivery", "written"),
    [
        (NEVER_REACHED_MS, 1, [Report]),  # quick first attempt: its report alone
        (0, 1, [Started, Report]),  # ran past the notice delay
        (NEVER_REACHED_MS, 2, [Started, Report]),  # a retry always says so first
    ],
)
async def test_what_an_attempt_writes(redis: Redis, settings, delay_ms, delivery, written) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(settings, started_notice_delay_ms=delay_ms)
    found = await run_first_task(redis, settings, delivery=delivery)
    assert found == written


async def test_a_redis_error_while_saying_started_is_not_the_strategys_failure(
    redis: Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retry says it started before it runs; Redis refuses that append (a primary
    # demoted mid-failover): the task must stay pending to run again, not end the
    # strategy as failed with the connection's error as its reason.
    async def refused(_self: Mailbox, _scan_id: str, message: object) -> str | None:
        if isinstance(message, Started):
            raise RedisConnectionError("The previous master is now a slave")
        return await append(_self, _scan_id, message)  # type: ignore[arg-type]

    append = Mailbox.append
    monkeypatch.setattr(Mailbox, "append", refused)
    with pytest.raises(RedisConnectionError):
        await run_first_task(redis, settings, delivery=2)
    [stream] = [
        keys.work_stream(b)
        for b in range(settings.index_buckets)
        if await redis.xlen(keys.work_stream(b))
    ]
    assert (await redis.xpending(stream, keys.WORK_GROUP))["pending"] == 1
    for mailbox in await redis.keys(keys.mailbox("*")):
        written = [fields[b"m"] for _id, fields in await redis.xrange(mailbox)]
        assert [type(mailbox_decoder.decode(blob)) for blob in written if blob] == []
