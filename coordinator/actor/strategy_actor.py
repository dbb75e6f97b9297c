"""StrategyActor: runs one strategy of one scan and reports into its mailbox.

Strategies are pure and synchronous; they run in a thread so a slow one never
stalls the event loop that renews this process's leases, except those whose
recent runs were cheaper than the thread hop (see coordinator.actor.inline_runs).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor.inline_runs import InlineRuns
from coordinator.actor.mailbox import LocalOwner, Mailbox
from coordinator.process import metric_values
from coordinator.process.clock import MS_PER_S, now_ms
from coordinator.process.metrics import STRATEGY_DURATION
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline, same_reply
from coordinator.store.records import (
    TERMINAL_SCAN_STATUSES,
    Report,
    ScanStatus,
    Started,
    StrategyStatus,
    WorkItem,
)
from coordinator.store.work import Task, WorkQueue
from strategies.findings import Findings, summarise, with_excluded
from strategies.market_data import MarketDataProvider, MarketSnapshot
from strategies.opportunity import Opportunity
from strategies.registry import Registry, StrategySpec

log = structlog.get_logger(__name__)


def ignore(task: Task) -> None:
    """No one to tell that a task's strategy is done (see StrategyRunner.run)."""


# What a run that failed, timed out or gave up found.
NO_FINDINGS = Findings(opportunities=[], evaluated=0)
# What a run computed: the market data it ran over and what the strategy found.
Computed = tuple[MarketSnapshot, Findings]


class EvidenceAttacher(Protocol):
    """What attaches a run's evidence to its opportunities (the service's
    EvidenceBook: this process's copy of the shared evaluations)."""

    def attach(self, strategy: str, found: Sequence[Opportunity]) -> list[Opportunity]: ...


class StrategyRunner:
    """Runs tasks taken from the work queue; one instance per coordinator."""

    def __init__(
        self,
        redis: Redis,
        mailbox: Mailbox,
        work: WorkQueue,
        registry: Registry,
        provider: MarketDataProvider,
        settings: Settings,
        autopipe: AutoPipeline | None = None,
        local_owner: LocalOwner | None = None,
        evidence: EvidenceAttacher | None = None,
    ) -> None:
        self._redis = redis
        # Attaches each run's evidence (None: opportunities go as the rule made them).
        self._evidence = evidence
        self._local_owner = local_owner
        self._autopipe = autopipe or AutoPipeline(redis)
        self._mailbox = mailbox
        self._work = work
        self._registry = registry
        self._provider = provider
        self._settings = settings
        self._inline = InlineRuns(settings.strategy_inline_budget_ms)
        # Strategies in threads at once: a pool of its own, so a run's budget starts
        # when a thread is free for it, not while it queues behind other runs.
        self._threads = asyncio.Semaphore(settings.strategy_concurrency)
        self._threads_busy = 0
        self._executor = ThreadPoolExecutor(
            max_workers=settings.strategy_concurrency, thread_name_prefix="strategy"
        )

    def free_threads(self) -> int:
        return self._settings.strategy_concurrency - self._threads_busy

    def quick_lately(self) -> bool:
        """Every recent run was quick enough for the loop (see InlineRuns)."""
        return self._inline.quick_lately()

    def close(self) -> None:
        """On shutdown: runs still in threads are abandoned (their tasks handed back)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, tasks: Sequence[Task], ran: Callable[[Task], None] = ignore) -> None:
        """Run tasks of one scan taken together (see coordinator.store.work.by_scan; one
        task is a batch of one), each to its acknowledgement; ``ran(task)`` once that
        task's strategy is done (its report and acknowledgement still to write).

        The one way a strategy runs. Work of a scan that ended, or passed its deadline,
        is acknowledged unrun. The rest runs in batches, each over one market-data
        fetch, with one append of its reports and one acknowledgement call: the first
        attempts of strategies quick enough for the event loop (InlineRuns) are one
        batch, run on the loop one after another, with no thread hop, started-notice
        timer or round trips of their own, which for quick strategies was most of what
        a run cost; every other task is a batch of its own, run in a thread,
        concurrently with the others."""
        item = tasks[0].item
        epoch = None if item is None else await self.epoch_if_worth_running(item)
        if item is None or epoch is None:
            await self._work.ack(tasks)
            return
        structlog.contextvars.bind_contextvars(scan_id=item.scan_id, epoch=epoch)
        quick = [task for task in tasks if self.runs_quick(task)]
        batches = [[task] for task in tasks if task not in quick]
        if quick:
            batches.append(quick)
        if len(batches) == 1:
            await self.run_batch(item.scan_id, batches[0], ran)
            return
        outcomes = await asyncio.gather(
            *(self.run_batch(item.scan_id, batch, ran) for batch in batches),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, RedisError):
                log.warning("strategy_task_redis_error", error=repr(outcome))
            elif isinstance(outcome, BaseException):
                raise outcome

    def runs_quick(self, task: Task) -> bool:
        """A first attempt of a strategy whose recent runs were quick (InlineRuns)."""
        item = task.item
        return (
            item is not None
            and task.delivery == 1
            and self._inline.inline(item.strategy, len(item.symbols))
        )

    async def run_batch(
        self, scan_id: str, tasks: Sequence[Task], ran: Callable[[Task], None]
    ) -> None:
        """One batch of run(): its runs, one append of their reports, one acknowledgement
        call (a report superseded by a newer attempt leaves its task pending: see
        acks_unless_superseded)."""
        if self.runs_quick(tasks[0]):
            reports = await self.run_on_loop(tasks, ran)
        else:
            (task,) = tasks
            reports = [await self.run_in_thread(task, functools.partial(ran, task))]
        await self.append_reports(scan_id, reports)
        acked = await self._work.acks_unless_superseded(tasks)
        for task, was_acked in zip(tasks, acked, strict=True):
            if not was_acked:
                # Our report is dropped as superseded; acknowledging would leave the
                # strategy to the newer attempt alone, with no task left to retry it.
                log.info("strategy_task_superseded", entry=task.entry_id, attempt=task.delivery)

    async def run_on_loop(self, tasks: Sequence[Task], ran: Callable[[Task], None]) -> list[Report]:
        """First attempts of quick strategies of one scan, one after another on the
        loop over one fetch of the scan's market data: their reports."""
        first = tasks[0].item
        assert first is not None
        reports = []
        try:
            fetched: MarketSnapshot | Exception = await self._provider.snapshot(first.symbols)
        except Exception as exc:  # each strategy fails with it, as each fetch would
            fetched = exc
        for task in tasks:
            item = task.item
            assert item is not None
            log.info("strategy_run", attempt=1, strategy=item.strategy)
            started = time.perf_counter()
            outcome: Computed | Exception
            try:
                if isinstance(fetched, Exception):
                    raise fetched
                outcome = (fetched, self.run_inline(item, fetched))
            except Exception as exc:
                outcome = exc
            finally:
                ran(task)
            reports.append(self.report_of(item, 1, started, outcome))
        return reports

    async def run_in_thread(self, task: Task, ran: Callable[[], None]) -> Report:
        """One delivery of a task (a retry, or a strategy not known to be quick): its
        report. A task delivered too often without a report is given up as failed."""
        item = task.item
        assert item is not None
        structlog.contextvars.bind_contextvars(strategy=item.strategy)
        if task.delivery > self._settings.max_strategy_deliveries:
            ran()
            error = f"gave up after {task.delivery - 1} deliveries without a report"
            return self.report_message(item, task.delivery, StrategyStatus.FAILED, 0.0, error=error)
        log.info("strategy_run", attempt=task.delivery)
        started = time.perf_counter()
        outcome: Computed | Exception
        try:
            try:
                outcome = await self.compute_announced(item, task.delivery, now_ms())
            finally:
                ran()
        except RedisError:
            # Redis failed us (a started notice during a failover), not the strategy:
            # the task stays unacknowledged and runs again, instead of ending as failed.
            raise
        except Exception as exc:
            outcome = exc
        return self.report_of(item, task.delivery, started, outcome)

    async def epoch_if_worth_running(self, item: WorkItem) -> int | None:
        """The scan's epoch, or None for work of a scan that ended (cancelled,
        expired) or passed its deadline, which is skipped."""
        if now_ms() >= item.deadline_ms:
            return None
        if self._local_owner is not None:
            # A scan this process owns: its actor knows, no need to ask Redis.
            owned = self._local_owner.epoch_of(item.scan_id)
            if owned is not None:
                return owned
        # One read per scan for the tasks of that scan that ask at once.
        status, epoch = await self._autopipe.run_grouped(
            queue_epoch_read, same_reply, item.scan_id, None
        )
        if status is None or ScanStatus(status.decode()) in TERMINAL_SCAN_STATUSES:
            return None
        return int(epoch or 0)

    def report_of(
        self, item: WorkItem, attempt: int, started: float, outcome: Computed | Exception
    ) -> Report:
        """The report of a run that began at ``started`` (perf_counter) and ended now,
        with ``outcome``: what it computed, or what it raised."""
        elapsed = (time.perf_counter() - started) * MS_PER_S
        if isinstance(outcome, TimeoutError):
            return self.report_message(
                item,
                attempt,
                StrategyStatus.TIMED_OUT,
                elapsed,
                error=f"ran past its {elapsed / MS_PER_S:.1f} s budget",
            )
        if isinstance(outcome, Exception):
            log.warning(
                "strategy_failed", strategy=item.strategy, error=repr(outcome), attempt=attempt
            )
            return self.report_message(
                item,
                attempt,
                StrategyStatus.FAILED,
                elapsed,
                error=f"{type(outcome).__name__}: {outcome}",
            )
        snapshot, found = outcome
        # The source's exclusions are every strategy's skips (for the symbols asked).
        found = with_excluded(found, snapshot.excluded, item.symbols)
        if self._evidence is not None:
            attached = self._evidence.attach(item.strategy, found.opportunities)
            found = msgspec.structs.replace(found, opportunities=attached)
        return self.report_message(
            item,
            attempt,
            StrategyStatus.COMPLETED,
            elapsed,
            findings=found,
            as_of_ms=snapshot.as_of_ms,
            source=snapshot.source,
        )

    async def compute(self, item: WorkItem) -> Computed:
        """Fetch the market data and run the strategy within its budget: in a thread,
        or on the loop when its recent runs were cheaper than the hop (InlineRuns)."""
        spec = self._registry.get(item.strategy)
        snapshot = await self._provider.snapshot(item.symbols)
        symbols = len(item.symbols)
        if self._inline.inline(spec.name, symbols):
            return snapshot, self.run_inline(item, snapshot)
        async with self._threads:
            self._threads_busy += 1
            try:
                budget_s = run_budget_s(spec, item)  # from now: a thread is free for it
                running = asyncio.get_running_loop().run_in_executor(
                    self._executor, timed_run, spec, snapshot
                )
                found, elapsed_s = await asyncio.wait_for(running, timeout=budget_s)
            except TimeoutError:
                self._inline.record(spec.name, symbols, budget_s)
                raise
            finally:
                self._threads_busy -= 1
        self._inline.record(spec.name, symbols, elapsed_s)
        return snapshot, found

    def run_inline(self, item: WorkItem, snapshot: MarketSnapshot) -> Findings:
        """Run the strategy on the loop; TimeoutError when it ran past its budget."""
        spec = self._registry.get(item.strategy)
        budget_s = run_budget_s(spec, item)
        found, elapsed_s = timed_run(spec, snapshot)
        self._inline.record(spec.name, len(item.symbols), elapsed_s)
        if elapsed_s > budget_s:
            raise TimeoutError  # as a thread's run past its budget would be
        return found

    async def compute_announced(self, item: WorkItem, attempt: int, at_ms: int) -> Computed:
        """Compute, saying the attempt started unless a first attempt finishes within
        the notice delay (its report then carries its start). A retry says so before
        anything else: a late report of the attempt it replaces must find it started,
        to be recognised as superseded. A timer, not a task per run: most runs end
        long before it fires."""
        if attempt > 1:
            await self.announce(item, attempt, at_ms)
            return await self.compute(item)
        announcing: list[asyncio.Future[None]] = []
        timer = asyncio.get_running_loop().call_later(
            self._settings.started_notice_delay_ms / MS_PER_S,
            lambda: announcing.append(asyncio.ensure_future(self.announce(item, attempt, at_ms))),
        )
        try:
            return await self.compute(item)
        finally:
            timer.cancel()
            # The notice goes before the report, never after it.
            for notice in announcing:
                await notice

    async def announce(self, item: WorkItem, attempt: int, at_ms: int) -> None:
        worker = self._settings.worker_id
        message = Started(strategy=item.strategy, attempt=attempt, worker=worker, at_ms=at_ms)
        await self._mailbox.append(item.scan_id, message)

    def report_message(
        self,
        item: WorkItem,
        attempt: int,
        status: StrategyStatus,
        duration_ms: float,
        *,
        error: str | None = None,
        findings: Findings | None = None,
        as_of_ms: int | None = None,
        source: str | None = None,
    ) -> Report:
        metric_values.child(STRATEGY_DURATION, item.strategy).observe(duration_ms / MS_PER_S)
        found = findings or NO_FINDINGS
        summary = summarise(found.skipped)
        return Report(
            report_id=f"{item.strategy}:{attempt}",
            strategy=item.strategy,
            attempt=attempt,
            status=status,
            worker=self._settings.worker_id,
            at_ms=now_ms(),
            duration_ms=round(duration_ms, 3),
            opportunities=found.opportunities,
            error=error,
            market_data_as_of_ms=as_of_ms,
            data_source=source,
            evaluated=found.evaluated,
            skipped=summary.examples,
            skipped_counts=summary.counts,
        )

    async def append_reports(self, scan_id: str, reports: Sequence[Report]) -> None:
        entries = await self._mailbox.append_all(scan_id, reports)
        for report, entry in zip(reports, entries, strict=True):
            # The acknowledged append, for the chaos suite's "applied exactly once" check.
            log.info(
                "report_appended",
                strategy=report.strategy,
                report_id=report.report_id,
                attempt=report.attempt,
                entry=entry,
            )


def queue_epoch_read(pipe: Pipeline, scan_id: str, _asking: Sequence[None]) -> None:
    pipe.hmget(keys.scan(scan_id), ["status", "epoch"])


def run_budget_s(spec: StrategySpec, item: WorkItem) -> float:
    """What a run starting now may take: its own timeout, cut by the scan's deadline."""
    return min(spec.timeout_s, (item.deadline_ms - now_ms()) / MS_PER_S)


def timed_run(spec: StrategySpec, snapshot: MarketSnapshot) -> tuple[Findings, float]:
    """Run a strategy; its result and how long it took (wall clock, in seconds)."""
    started = time.perf_counter()
    found = spec.run(snapshot)
    return found, time.perf_counter() - started
