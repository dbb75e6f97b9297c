"""The strategy tasks this process runs: taken from the shared work streams within
its slots, run by the StrategyRunner, refreshed while they run, handed back on stop.

A slot is held while a strategy waits to run or runs, not while its report and
acknowledgement are written: for quick strategies that writing is most of a
task's time, and holding slots for it starved the consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.process.metrics import RECLAIMED_TASKS
from coordinator.service.jobs import Jobs
from coordinator.store.generation import GenerationGuard
from coordinator.store.redis_client import dedicated
from coordinator.store.work import Task, WorkQueue, by_scan

log = structlog.get_logger(__name__)
# Pause after a failed blocking read (Redis down) before the next try.
CONSUMER_ERROR_BACKOFF_S = 0.2


class StrategyTasks:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        work: WorkQueue,
        runner: StrategyRunner,
        generation: GenerationGuard,
        jobs: Jobs,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._work = work
        self._runner = runner
        self._generation = generation
        self._jobs = jobs
        self.running: dict[str, Task] = {}
        self._free_slots = settings.strategy_tasks_in_flight
        self._slot_freed = asyncio.Event()

    def take_count(self) -> int:
        """How many tasks to take now: as many as there are slots while recent runs
        were all quick, else no more than there are free threads (at least one), so
        slow work is not held here while other processes could run it."""
        if self._runner.quick_lately():
            return self._free_slots
        return min(self._free_slots, max(1, self._runner.free_threads()))

    async def consume(self, bucket: int) -> None:
        """Take the bucket's new tasks as slots free up, until stopping."""
        client = dedicated(self._redis)  # one connection for this loop's blocking reads
        try:
            await self.consume_with(bucket, client)
        finally:
            if client is not self._redis:
                await client.aclose()

    async def consume_with(self, bucket: int, client: Redis) -> None:
        while not self._jobs.stopping.is_set():
            await self.wait_for_slot()
            try:
                if self._generation.lost:
                    raise RedisError("generation lost")
                count = self.take_count()
                block_ms = self._settings.work_block_ms
                tasks = await self._work.take(bucket, count, block_ms, client)
            except RedisError as exc:
                log.debug("work_take_failed", bucket=bucket, error=repr(exc))
                if "NOGROUP" in str(exc):
                    # Redis lost its data and the operator recovered it: the
                    # streams went with their consumer groups, so make them again.
                    with contextlib.suppress(RedisError):
                        await self._work.ensure_groups()
                await asyncio.sleep(CONSUMER_ERROR_BACKOFF_S)
                continue
            for together in by_scan(tasks):
                await self.start(together)

    async def wait_for_slot(self) -> None:
        while self._free_slots <= 0:
            self._slot_freed.clear()
            await self._slot_freed.wait()

    async def start(self, tasks: Sequence[Task]) -> None:
        """Run tasks of one scan taken together as one job (see StrategyRunner.run)."""
        self._free_slots -= len(tasks)
        for task in tasks:
            self.running[task.entry_id] = task
        await self._jobs.spawn(self.run(tasks))

    async def run(self, tasks: Sequence[Task]) -> None:
        freed: set[str] = set()

        def free_slot(task: Task) -> None:
            if task.entry_id not in freed:
                freed.add(task.entry_id)
                self._free_slots += 1
                self._slot_freed.set()

        try:
            await self._runner.run(tasks, free_slot)
        except RedisError as exc:
            log.warning("strategy_task_redis_error", entries=len(tasks), error=repr(exc))
        finally:
            for task in tasks:
                self.running.pop(task.entry_id, None)
                free_slot(task)

    async def reclaim(self) -> None:
        """Take over tasks whose consumer stopped refreshing them (its process died)."""
        if self._generation.lost:
            return
        for bucket in self._work.buckets():
            if self._free_slots <= 0:
                return
            for task in await self._work.reclaim(bucket, self.take_count()):
                log.info(
                    "strategy_task_reclaimed",
                    scan_id=task.item.scan_id if task.item else None,
                    entry=task.entry_id,
                    delivery=task.delivery,
                )
                RECLAIMED_TASKS.inc()
                await self.start([task])

    async def refresh(self) -> None:
        """Keep the running tasks' idle time low, so no one reclaims them."""
        await self._work.refresh(list(self.running.values()))

    async def prune_consumers(self) -> None:
        if not self._generation.lost:
            await self._work.prune_consumers()

    async def hand_back(self, tasks: Sequence[Task]) -> None:
        """Give tasks back to the stream for any worker's next reclaim pass."""
        if tasks:
            with contextlib.suppress(RedisError):
                await self._work.hand_back(tasks)
