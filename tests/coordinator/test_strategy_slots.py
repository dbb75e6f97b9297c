"""A strategy slot is held while a strategy waits to run or runs, not while its
report is written: with one slot, a second strategy runs while the first one's
report is still on its way to Redis."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from redis.asyncio import Redis

from coordinator.store.records import MailboxMessage, Report
from tests.support import eventually


async def test_a_slot_is_free_again_before_the_report_is_written(
    redis: Redis, settings, coordinator_factory, scans_for, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(settings, strategy_tasks_in_flight=1)
    worker = await coordinator_factory(settings)
    computed: list[str] = []
    compute = worker.runner.compute

    async def counted_compute(item):  # type: ignore[no-untyped-def]
        computed.append(item.strategy)
        return await compute(item)

    reports_may_go = asyncio.Event()
    append = worker.mailbox.append

    async def held_reports(scan_id: str, message: MailboxMessage) -> str | None:
        if isinstance(message, Report):
            await reports_may_go.wait()
        return await append(scan_id, message)

    monkeypatch.setattr(worker.runner, "compute", counted_compute)
    monkeypatch.setattr(worker.mailbox, "append", held_reports)
    try:
        await scans_for(settings, worker).create("alice", ["noop", "cpu_1ms"], None, None)

        async def both_ran() -> bool:
            return len(computed) == 2

        await eventually(both_ran, what="the second strategy run while the first reports")
        assert sorted(computed) == ["cpu_1ms", "noop"]
    finally:
        reports_may_go.set()
