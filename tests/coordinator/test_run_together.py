"""Tasks of one scan taken together run as one job (StrategyRunner.run):
first attempts of strategies quick enough for the loop run one after another over
one market-data fetch, report in one append and are acknowledged in one call; the
others still run on their own; a scan that ended has its tasks dropped unrun."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest
import structlog
from redis.asyncio import Redis

from config.settings import Settings
from coordinator.actor.inline_runs import RUNS_BEFORE_INLINE
from coordinator.actor.mailbox import Entry, LocalOwner, Mailbox
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.process.clock import now_ms
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.codec import mailbox_decoder
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Report, ScanStatus, StrategyStatus, WorkItem
from coordinator.store.work import Task, WorkQueue, by_scan
from strategies.market_data import MarketSnapshot
from tests.support import StaticProvider, diagnostic_registry

QUICK = ["noop_01", "noop_02", "noop_03"]
# Never run before by the runner under test: it starts in a thread.
UNSEEN = "cpu_1ms"
INLINE_BUDGET_MS = 50.0  # a no-op run is far below it, however loaded the machine
WARM_UP_MS = 60_000  # a warm-up run's deadline, far off


class SwitchableProvider(StaticProvider):
    """Serves market data until told its exchange is unreachable."""

    def __init__(self) -> None:
        self.unreachable = False

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        if self.unreachable:
            raise ConnectionError("exchange unreachable")
        return await super().snapshot(symbols)


class Harness:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        provider: StaticProvider,
        local_owner: LocalOwner | None = None,
    ) -> None:
        self.redis = redis
        self.settings = msgspec.structs.replace(
            settings, strategy_inline_budget_ms=INLINE_BUDGET_MS
        )
        self.work = WorkQueue(redis, self.settings)
        self.mailbox = Mailbox(redis)
        self.runner = StrategyRunner(
            redis,
            self.mailbox,
            self.work,
            diagnostic_registry(),
            provider,
            self.settings,
            local_owner=local_owner,
        )
        self.appends: list[int] = []  # messages per append call
        self.freed: list[str] = []

    async def scan_with_tasks(self, strategies: list[str]) -> tuple[str, list[Task]]:
        guard = GenerationGuard(self.redis)
        await guard.establish()
        scans = Scans(
            self.redis, self.settings, diagnostic_registry(), StaticProvider().symbols(), guard
        )
        await self.work.ensure_groups()
        scan_id = (await scans.create("alice", strategies, None, None)).snapshot.scan_id
        bucket = keys.bucket_of(scan_id, self.settings.index_buckets)
        tasks = await self.work.take(bucket, len(strategies), self.settings.work_block_ms)
        assert len(tasks) == len(strategies)
        return scan_id, tasks

    async def make_quick(self, strategies: list[str], symbols: list[str]) -> None:
        """Runs in threads first, as InlineRuns asks before it trusts a strategy."""
        for name in strategies:
            for _ in range(RUNS_BEFORE_INLINE):
                await self.runner.compute(warm_up_item(name, symbols))

    async def run_together(self, tasks: list[Task]) -> None:
        [together] = by_scan(tasks)
        await self.runner.run(together, lambda task: self.freed.append(task.entry_id))

    async def reports(self, scan_id: str) -> list[Report]:
        entries = await self.redis.xrange(keys.mailbox(scan_id))
        messages = [mailbox_decoder.decode(fields[b"m"]) for _id, fields in entries]
        return [message for message in messages if isinstance(message, Report)]

    async def pending(self, tasks: list[Task]) -> int:
        stream = keys.work_stream(tasks[0].bucket)
        summary = await self.redis.xpending(stream, keys.WORK_GROUP)
        return int(summary["pending"])


def warm_up_item(strategy: str, symbols: list[str]) -> WorkItem:
    return WorkItem(
        scan_id="warm-up", strategy=strategy, symbols=symbols, deadline_ms=now_ms() + WARM_UP_MS
    )


@pytest.fixture
def harness(redis: Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    made: list[Harness] = []

    def make(
        provider: StaticProvider | None = None, local_owner: LocalOwner | None = None
    ) -> Harness:
        made.append(Harness(redis, settings, provider or StaticProvider(), local_owner))
        queue_appends = Mailbox.queue_appends

        def counted(self, pipe, scan_id, messages):  # type: ignore[no-untyped-def]
            made[-1].appends.append(len(messages))
            return queue_appends(self, pipe, scan_id, messages)

        monkeypatch.setattr(Mailbox, "queue_appends", counted)
        return made[-1]

    yield make
    for one in made:
        one.runner.close()


async def test_quick_first_attempts_report_in_one_append_and_are_all_acknowledged(
    harness,  # type: ignore[no-untyped-def]
) -> None:
    h = harness()
    scan_id, tasks = await h.scan_with_tasks(QUICK)
    await h.make_quick(QUICK, tasks[0].item.symbols)
    await h.run_together(tasks)
    reports = await h.reports(scan_id)
    assert sorted(report.strategy for report in reports) == QUICK
    assert {report.status for report in reports} == {StrategyStatus.COMPLETED}
    assert h.appends == [len(QUICK)], "the quick runs' reports went in one append"
    assert await h.pending(tasks) == 0
    assert sorted(h.freed) == sorted(task.entry_id for task in tasks)


async def test_a_strategy_not_yet_known_to_be_quick_still_runs_on_its_own(
    harness,  # type: ignore[no-untyped-def]
) -> None:
    h = harness()
    scan_id, tasks = await h.scan_with_tasks([*QUICK, UNSEEN])
    await h.make_quick(QUICK, tasks[0].item.symbols)
    await h.run_together(tasks)
    reports = await h.reports(scan_id)
    assert sorted(report.strategy for report in reports) == sorted([*QUICK, UNSEEN])
    assert sorted(h.appends) == [1, len(QUICK)], "its own report, and the quick runs' together"
    assert await h.pending(tasks) == 0


async def test_a_failed_market_data_fetch_fails_each_quick_strategy(
    harness,  # type: ignore[no-untyped-def]
) -> None:
    provider = SwitchableProvider()
    h = harness(provider)
    scan_id, tasks = await h.scan_with_tasks(QUICK)
    await h.make_quick(QUICK, tasks[0].item.symbols)
    provider.unreachable = True
    await h.run_together(tasks)
    reports = await h.reports(scan_id)
    assert sorted(report.strategy for report in reports) == QUICK
    assert {report.status for report in reports} == {StrategyStatus.FAILED}
    assert all("exchange unreachable" in (report.error or "") for report in reports)
    assert h.appends == [len(QUICK)]
    assert await h.pending(tasks) == 0


async def test_tasks_of_a_scan_that_ended_are_dropped_unrun(
    harness,  # type: ignore[no-untyped-def]
    redis: Redis,
) -> None:
    h = harness()
    scan_id, tasks = await h.scan_with_tasks(QUICK)
    await redis.hset(keys.scan(scan_id), "status", ScanStatus.CANCELLED.value)
    await h.run_together(tasks)
    assert await h.reports(scan_id) == []
    assert await h.pending(tasks) == 0
    assert await redis.xlen(keys.work_stream(tasks[0].bucket)) == 0, "dropped, not kept"


@pytest.fixture
def captured_lines():  # type: ignore[no-untyped-def]
    """Log lines as the service's processors see them: with the bound context merged."""
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        yield capture.entries
    finally:
        structlog.reset_defaults()


async def test_quick_runs_lines_carry_their_scan_epoch_and_strategy(
    harness,  # type: ignore[no-untyped-def]
    captured_lines,  # type: ignore[no-untyped-def]
) -> None:
    # The chaos suite's report audit reads scan, strategy and attempt off each
    # report_appended line; the timeline's readers sort lines by scan and epoch.
    h = harness()
    scan_id, tasks = await h.scan_with_tasks(QUICK)
    await h.make_quick(QUICK, tasks[0].item.symbols)
    captured_lines.clear()
    await h.run_together(tasks)
    for event in ("strategy_run", "report_appended"):
        lines = [line for line in captured_lines if line["event"] == event]
        assert sorted(line["strategy"] for line in lines) == QUICK, event
        assert {(line["scan_id"], line["epoch"]) for line in lines} == {(scan_id, 0)}, event


async def test_a_scan_owned_here_is_not_asked_of_redis(
    harness,  # type: ignore[no-untyped-def]
    captured_lines,  # type: ignore[no-untyped-def]
) -> None:
    # This process owns the scan at epoch 7 (Redis still says 0): its actor knows
    # the scan is running, and its epoch is the one the lines carry.
    def ignore(scan_id: str, previous: str = "", entries: list[Entry] | None = None) -> None:
        return None

    h = harness(local_owner=LocalOwner("testhost:1", ignore, ignore, lambda scan_id: 7))
    scan_id, tasks = await h.scan_with_tasks(QUICK)
    await h.make_quick(QUICK, tasks[0].item.symbols)
    captured_lines.clear()
    await h.run_together(tasks)
    lines = [line for line in captured_lines if line["event"] == "report_appended"]
    assert {(line["scan_id"], line["epoch"]) for line in lines} == {(scan_id, 7)}
    assert await h.pending(tasks) == 0
