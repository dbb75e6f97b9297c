"""Strategies in threads: at most STRATEGY_CONCURRENCY at once, each with its whole
time budget counted from when a thread is free for it; and a process takes more
tasks than it has threads only while its recent runs were all quick."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest
from redis.asyncio import Redis

from coordinator import keys
from coordinator.codec import mailbox_decoder
from coordinator.generation import GenerationGuard
from coordinator.inline_runs import RUNS_JUDGED, InlineRuns
from coordinator.mailbox import Mailbox
from coordinator.records import Report, StrategyStatus
from coordinator.scans import Scans
from coordinator.scripts import Scripts
from coordinator.strategy_actor import StrategyRunner
from coordinator.work import WorkQueue
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider

# One run's cost, and a budget that holds one run but not a run plus a wait for it.
RUN_S = 0.3
BUDGET_S = 0.5
INLINE_BUDGET_MS = 1.0


def slow(snapshot):  # type: ignore[no-untyped-def]
    time.sleep(RUN_S)  # the strategy's simulated cost, in its thread
    return []


async def test_a_runs_budget_starts_when_a_thread_is_free_for_it(redis: Redis, settings) -> None:  # type: ignore[no-untyped-def]
    registry = Registry(
        [StrategySpec("slow_a", "", slow, BUDGET_S), StrategySpec("slow_b", "", slow, BUDGET_S)]
    )
    settings = msgspec.structs.replace(settings, strategy_concurrency=1)
    guard = GenerationGuard(redis)
    await guard.establish()
    scans = Scans(redis, settings, registry, StaticProvider().symbols(), guard)
    work = WorkQueue(redis, settings)
    await work.ensure_groups()
    scan_id = (await scans.create("alice", ["slow_a", "slow_b"], None, None)).snapshot.scan_id
    tasks = await work.take(keys.bucket_of(scan_id, settings.index_buckets), 2, 0)
    runner = StrategyRunner(
        redis, Mailbox(redis, Scripts(redis)), work, registry, StaticProvider(), settings
    )
    try:
        await asyncio.gather(*(runner.run(task) for task in tasks))
    finally:
        runner.close()

    entries = await redis.xrange(keys.mailbox(scan_id))
    reports = [mailbox_decoder.decode(fields[b"m"]) for _id, fields in entries]
    reports = [message for message in reports if isinstance(message, Report)]
    # One thread: the second waited a whole run for it, and still had its budget.
    assert sorted(r.strategy for r in reports) == ["slow_a", "slow_b"]
    assert {r.status for r in reports} == {StrategyStatus.COMPLETED}


def test_quick_lately_only_after_a_full_window_of_quick_runs() -> None:
    runs = InlineRuns(INLINE_BUDGET_MS)
    quick_s, slow_s = INLINE_BUDGET_MS / 2000, INLINE_BUDGET_MS / 500
    for _ in range(RUNS_JUDGED - 1):
        runs.record("noop", 1, quick_s)
    assert not runs.quick_lately()  # too few runs judged yet
    runs.record("noop", 1, quick_s)
    assert runs.quick_lately()
    runs.record("heavy", 1, slow_s)
    assert not runs.quick_lately()
    for _ in range(RUNS_JUDGED - 1):
        runs.record("noop", 1, quick_s)
    assert not runs.quick_lately()  # the slow run is still in the window
    runs.record("noop", 1, quick_s)
    assert runs.quick_lately()


async def test_a_process_takes_beyond_its_threads_only_while_runs_are_quick(
    settings, coordinator_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(
        settings, strategy_concurrency=2, strategy_tasks_in_flight=10
    )
    worker = await coordinator_factory(settings, start=False)
    try:
        assert worker.take_count() == 2  # nothing judged yet: no more than its threads
        monkeypatch.setattr(worker.runner, "quick_lately", lambda: True)
        assert worker.take_count() == 10
    finally:
        worker.runner.close()
