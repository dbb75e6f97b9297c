"""A strategy slot is held while a strategy waits to run or runs, not while its
report is written: with one slot, a second strategy runs while the first one's
report is still on its way to Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

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
    held: list[str] = []
    append_all = worker.mailbox.append_all

    async def held_reports(scan_id: str, messages: Sequence[MailboxMessage]) -> list[str | None]:
        """Every report of this worker goes through append_all (one script call per
        batch of reports): each waits here until the test lets it go."""
        reports = [message.strategy for message in messages if isinstance(message, Report)]
        if reports:
            held.extend(reports)
            await reports_may_go.wait()
        return await append_all(scan_id, messages)

    monkeypatch.setattr(worker.runner, "compute", counted_compute)
    monkeypatch.setattr(worker.mailbox, "append_all", held_reports)
    try:
        await scans_for(settings, worker).create("alice", ["noop", "cpu_1ms"], None, None)

        async def both_ran() -> bool:
            return len(computed) == 2

        await eventually(both_ran, what="the second strategy run while the first reports")
        assert sorted(computed) == ["cpu_1ms", "noop"]
        # The second ran while the first one's report was held here: had reports taken
        # another path, nothing would have been held, and this test would prove nothing.
        assert held[:1] == computed[:1]
    finally:
        reports_may_go.set()
