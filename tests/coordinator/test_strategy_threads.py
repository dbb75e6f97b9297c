"""Strategies in threads: at most STRATEGY_CONCURRENCY at once, each with its whole
time budget counted from when a thread is free for it; and a process takes more
tasks than it has threads only while its recent runs were all quick."""

from __future__ import annotations

import asyncio
import threading

import msgspec
import pytest
from redis.asyncio import Redis

from coordinator.actor.inline_runs import RUNS_JUDGED, InlineRuns
from coordinator.actor.mailbox import Mailbox
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.codec import mailbox_decoder
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Report, StrategyStatus
from coordinator.store.work import WorkQueue
from strategies.diagnostic import NOTHING
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider

# The budget of each strategy run: the blocker runs past it; the instant one needs none.
BUDGET_S = 0.5
# How long the blocker's thread waits for its release at most (the test releases it).
BLOCKER_RELEASE_TIMEOUT_S = 30.0
INLINE_BUDGET_MS = 1.0


async def test_a_runs_budget_starts_when_a_thread_is_free_for_it(redis: Redis, settings) -> None:  # type: ignore[no-untyped-def]
    released = threading.Event()

    def blocker(snapshot):  # type: ignore[no-untyped-def]
        released.wait(BLOCKER_RELEASE_TIMEOUT_S)  # holds the one thread until released
        return NOTHING

    registry = Registry(
        [
            StrategySpec("blocker", "", blocker, BUDGET_S),
            StrategySpec("instant", "", lambda snapshot: NOTHING, BUDGET_S),
        ]
    )
    settings = msgspec.structs.replace(settings, strategy_concurrency=1)
    guard = GenerationGuard(redis)
    await guard.establish()
    scans = Scans(redis, settings, registry, StaticProvider().symbols(), guard)
    work = WorkQueue(redis, settings)
    await work.ensure_groups()
    scan_id = (await scans.create("alice", ["blocker", "instant"], None, None)).snapshot.scan_id
    first, second = await work.take(keys.bucket_of(scan_id, settings.index_buckets), 2, 0)
    runner = StrategyRunner(redis, Mailbox(redis), work, registry, StaticProvider(), settings)
    try:
        blocking = asyncio.ensure_future(runner.run([first]))
        waiting = asyncio.ensure_future(runner.run([second]))
        await blocking  # timed out, its thread still held: the instant one has waited a budget
        released.set()
        await waiting
    finally:
        released.set()
        runner.close()

    entries = await redis.xrange(keys.mailbox(scan_id))
    messages = [mailbox_decoder.decode(fields[b"m"]) for _id, fields in entries]
    reports = {m.strategy: m.status for m in messages if isinstance(m, Report)}
    # One thread: the instant one waited longer than its budget for it, and still ran.
    assert reports == {"blocker": StrategyStatus.TIMED_OUT, "instant": StrategyStatus.COMPLETED}


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
        # Nothing judged yet: no more than its threads.
        assert worker.strategy_tasks.take_count() == 2
        monkeypatch.setattr(worker.runner, "quick_lately", lambda: True)
        assert worker.strategy_tasks.take_count() == 10
    finally:
        worker.runner.close()
