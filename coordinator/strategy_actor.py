"""StrategyActor: runs one strategy of one scan and reports into its mailbox.

Strategies are pure and synchronous; they run in a thread so a slow one never
stalls the event loop that renews this process's leases, except those whose
recent runs were cheaper than the thread hop (see coordinator.inline_runs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator import keys, metric_values
from coordinator.autopipe import AutoPipeline, same_reply
from coordinator.clock import MS_PER_S, now_ms
from coordinator.inline_runs import InlineRuns
from coordinator.mailbox import Mailbox
from coordinator.metrics import STRATEGY_DURATION
from coordinator.records import (
    TERMINAL_SCAN_STATUSES,
    Report,
    ScanStatus,
    Started,
    StrategyStatus,
    WorkItem,
)
from coordinator.work import Task, WorkQueue
from strategies.market_data import MarketDataProvider, MarketSnapshot
from strategies.opportunity import Opportunity
from strategies.registry import Registry, StrategySpec

log = structlog.get_logger(__name__)


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
    ) -> None:
        self._redis = redis
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

    async def run(self, task: Task, ran: Callable[[], None] = lambda: None) -> None:
        """Run a task to its acknowledgement; ``ran()`` is called once the strategy
        itself is done (its report and acknowledgement still to write)."""
        item = task.item
        epoch = None if item is None else await self.epoch_if_worth_running(item)
        if item is None or epoch is None:
            await self._work.ack(task)
            return
        # The scan's current epoch, so a strategy's lines sort into the owner's timeline.
        structlog.contextvars.bind_contextvars(
            scan_id=item.scan_id, epoch=epoch, strategy=item.strategy
        )
        if task.delivery > self._settings.max_strategy_deliveries:
            error = f"gave up after {task.delivery - 1} deliveries without a report"
            await self.report(item, task.delivery, StrategyStatus.FAILED, 0.0, error=error)
        else:
            await self.execute(item, task.delivery, ran)
        if not await self._work.ack_unless_superseded(task):
            # Our report is dropped as superseded; acknowledging would leave the
            # strategy to the newer attempt alone, with no task left to retry it.
            log.info("strategy_task_superseded", entry=task.entry_id, attempt=task.delivery)

    async def epoch_if_worth_running(self, item: WorkItem) -> int | None:
        """The scan's epoch, or None for work of a scan that ended (cancelled,
        expired) or passed its deadline, which is skipped."""
        # One read per scan for the tasks of that scan that ask at once.
        status, epoch = await self._autopipe.run_grouped(
            queue_epoch_read, same_reply, item.scan_id, None
        )
        if status is None or ScanStatus(status.decode()) in TERMINAL_SCAN_STATUSES:
            return None
        if now_ms() >= item.deadline_ms:
            return None
        return int(epoch or 0)

    async def execute(self, item: WorkItem, attempt: int, ran: Callable[[], None]) -> None:
        log.info("strategy_run", attempt=attempt)
        started = time.perf_counter()
        started_ms = now_ms()
        try:
            try:
                snapshot, found = await self.compute_announced(item, attempt, started_ms)
            finally:
                ran()
        except RedisError:
            # Redis failed us (a started notice during a failover), not the strategy:
            # the task stays unacknowledged and runs again, instead of ending as failed.
            raise
        except TimeoutError:
            elapsed = (time.perf_counter() - started) * MS_PER_S
            await self.report(
                item,
                attempt,
                StrategyStatus.TIMED_OUT,
                elapsed,
                error=f"ran past its {elapsed / MS_PER_S:.1f} s budget",
            )
            return
        except Exception as exc:
            elapsed = (time.perf_counter() - started) * MS_PER_S
            log.warning("strategy_failed", error=repr(exc), attempt=attempt)
            await self.report(
                item, attempt, StrategyStatus.FAILED, elapsed, error=f"{type(exc).__name__}: {exc}"
            )
            return
        elapsed = (time.perf_counter() - started) * MS_PER_S
        await self.report(
            item,
            attempt,
            StrategyStatus.COMPLETED,
            elapsed,
            opportunities=found,
            as_of_ms=snapshot.as_of_ms,
            source=snapshot.source,
        )

    async def compute(self, item: WorkItem) -> tuple[MarketSnapshot, list[Opportunity]]:
        """Fetch the market data and run the strategy within its budget: in a thread,
        or on the loop when its recent runs were cheaper than the hop (InlineRuns)."""
        spec = self._registry.get(item.strategy)
        snapshot = await self._provider.snapshot(item.symbols)
        symbols = len(snapshot.symbols)
        if self._inline.inline(spec.name, symbols):
            budget_s = run_budget_s(spec, item)
            found, elapsed_s = timed_run(spec, snapshot)
            self._inline.record(spec.name, symbols, elapsed_s)
            if elapsed_s > budget_s:
                raise TimeoutError  # as a thread's run past its budget would be
            return snapshot, found
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

    async def compute_announced(
        self, item: WorkItem, attempt: int, at_ms: int
    ) -> tuple[MarketSnapshot, list[Opportunity]]:
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

    async def report(
        self,
        item: WorkItem,
        attempt: int,
        status: StrategyStatus,
        duration_ms: float,
        *,
        error: str | None = None,
        opportunities: list | None = None,  # type: ignore[type-arg]
        as_of_ms: int | None = None,
        source: str | None = None,
    ) -> None:
        metric_values.child(STRATEGY_DURATION, item.strategy).observe(duration_ms / MS_PER_S)
        message = Report(
            report_id=f"{item.strategy}:{attempt}",
            strategy=item.strategy,
            attempt=attempt,
            status=status,
            worker=self._settings.worker_id,
            at_ms=now_ms(),
            duration_ms=round(duration_ms, 3),
            opportunities=opportunities or [],
            error=error,
            market_data_as_of_ms=as_of_ms,
            data_source=source,
        )
        entry = await self._mailbox.append(item.scan_id, message)
        # The acknowledged append, for the chaos suite's "applied exactly once" check.
        log.info("report_appended", report_id=message.report_id, attempt=attempt, entry=entry)


def queue_epoch_read(pipe: Pipeline, scan_id: str, _asking: Sequence[None]) -> None:
    pipe.hmget(keys.scan(scan_id), ["status", "epoch"])


def run_budget_s(spec: StrategySpec, item: WorkItem) -> float:
    """What a run starting now may take: its own timeout, cut by the scan's deadline."""
    return min(spec.timeout_s, (item.deadline_ms - now_ms()) / MS_PER_S)


def timed_run(spec: StrategySpec, snapshot: MarketSnapshot) -> tuple[list[Opportunity], float]:
    """Run a strategy; its result and how long it took (wall clock, in seconds)."""
    started = time.perf_counter()
    found = spec.run(snapshot)
    return found, time.perf_counter() - started
