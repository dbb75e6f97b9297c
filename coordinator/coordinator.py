"""The Coordinator: the single scan coordinator of a worker process.

It owns one aiojobs.Scheduler and in it the periodic duties (lease renewal,
sweeping, work reclaim and heartbeats, the generation watchdog), the doorbell
listener, the work consumers, and one ScanActor per scan this process owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Sequence
from typing import Any

import aiojobs
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator import keys, metric_values, worker_registry
from coordinator.autopipe import AutoPipeline
from coordinator.clock import MS_PER_S, now_ms
from coordinator.errors import CoordinatorError
from coordinator.evidence import EvidenceBook
from coordinator.failure_streak import FailureStreak
from coordinator.generation import GenerationGuard
from coordinator.lease import Acquired, Lease, LeaseStore
from coordinator.loop_lag import watch_loop_lag
from coordinator.mailbox import Entry, LocalOwner, Mailbox
from coordinator.metrics import ACTIVE_SCANS, RECLAIMED_TASKS
from coordinator.periodic import run_periodic
from coordinator.publisher import Publisher
from coordinator.redis_client import SOCKET_TIMEOUT_S, connect, dedicated
from coordinator.scan_actor import ActorDeps, ScanActor
from coordinator.scans import Claimed
from coordinator.scripts import Scripts, queue_batches, slot_batches
from coordinator.strategy_actor import StrategyRunner
from coordinator.sweeper import Sweeper
from coordinator.work import Task, WorkQueue, by_scan
from coordinator.worker_registry import WorkerBeat
from strategies.market_data import MarketDataProvider
from strategies.registry import Registry

log = structlog.get_logger(__name__)
# Pause after a failed blocking read (Redis down) before the next try.
CONSUMER_ERROR_BACKOFF_S = 0.2
# Longest pause between attempts to reach Redis while starting.
START_RETRY_CAP_S = 1.0


class Coordinator:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        registry: Registry,
        provider: MarketDataProvider,
        *,
        run_strategies: bool = True,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.scripts = Scripts(redis)
        self.generation = GenerationGuard(redis)
        # Lease renewals get a client of their own (see LeaseStore): one renewal
        # pipeline at a time, so one connection.
        self._renewal_redis = connect(settings.redis_url) if settings.redis_url else None
        # One auto-pipeline per process (the web layer's Scans shares it too):
        # concurrent strategy tasks, owners, acquisitions and requests share round
        # trips, and a round trip costs the client far more than a command in it.
        # Its client has no socket timeout: the auto-pipeline bounds each round trip.
        self._pipeline_redis = (
            connect(settings.redis_url, socket_timeout_s=None) if settings.redis_url else None
        )
        self.autopipe = autopipe = AutoPipeline(
            self._pipeline_redis or redis, round_trip_timeout_s=SOCKET_TIMEOUT_S
        )
        self.leases = LeaseStore(redis, self.scripts, settings, self._renewal_redis, autopipe)
        local = LocalOwner(settings.worker_id, self.poke, self.deliver, self.owned_epoch)
        self.mailbox = Mailbox(redis, self.scripts, autopipe, local)
        self.work = WorkQueue(redis, settings, autopipe, self.scripts)
        self.evidence = EvidenceBook(redis, self.scripts, registry, provider, settings)
        self.runner = StrategyRunner(
            redis,
            self.mailbox,
            self.work,
            registry,
            provider,
            settings,
            autopipe,
            local,
            evidence=self.evidence,
        )
        self.sweeper = Sweeper(redis, settings, self.adopt, self.room)
        self._deps = ActorDeps(
            redis,
            autopipe,
            self.scripts,
            self.mailbox,
            Publisher(self.scripts, settings, autopipe),
            settings,
        )
        self._run_strategies = run_strategies
        self.actors: dict[str, ScanActor] = {}
        self.tasks: dict[str, Task] = {}
        self._free_slots = settings.strategy_tasks_in_flight
        self._slot_freed = asyncio.Event()
        self._stop = asyncio.Event()
        self._scheduler: aiojobs.Scheduler | None = None
        self._started_ms = now_ms()
        self._background: set[asyncio.Future[object]] = set()

    # ---- lifecycle ----

    async def start(self) -> None:
        await self.connect_at_start()
        self._scheduler = aiojobs.Scheduler(limit=None, pending_limit=0)
        s = self.settings
        duties = [
            ("renew_leases", s.lease_renew_interval_s, self.renew_leases),
            ("recheck_mailboxes", s.mailbox_poll_interval_ms / MS_PER_S, self.recheck_mailboxes),
            ("sweep", s.sweep_interval_ms / MS_PER_S, self.sweep),
            ("reclaim_work", s.reclaim_interval_s, self.reclaim_work),
            ("refresh_work", s.work_heartbeat_interval_s, self.refresh_work),
            ("check_generation", s.generation_check_interval_ms / MS_PER_S, self.check_generation),
            ("heartbeat", s.worker_heartbeat_interval_ms / MS_PER_S, self.heartbeat),
            ("prune_consumers", keys.dead_consumer_idle_ms(s) / MS_PER_S, self.prune_consumers),
            ("write_metrics", metric_values.WRITE_INTERVAL_S, self.write_metrics),
        ]
        for name, interval_s, duty in duties:
            await self._scheduler.spawn(run_periodic(name, interval_s, duty, self._stop))
        await self._scheduler.spawn(self.listen_doorbell())
        await self._scheduler.spawn(watch_loop_lag(self._stop))
        await self._scheduler.spawn(self.follow_evidence())
        if self._run_strategies:
            for bucket in self.work.buckets():
                await self._scheduler.spawn(self.consume(bucket))
        log.info("coordinator_started", worker_id=s.worker_id, generation=self.generation.expected)

    async def connect_at_start(self) -> None:
        """Adopt the generation and make the work groups, waiting for Redis if it
        is away: a gunicorn worker that exits at boot makes the master shut the
        whole service down, so a Redis blip during a worker restart must not."""
        delay_s = CONSUMER_ERROR_BACKOFF_S
        streak = FailureStreak("redis_unavailable_at_start", "redis_reached_at_start")
        while True:
            try:
                await self.generation.establish()
                await self.work.ensure_groups()
                streak.succeeded()
                return
            except RedisError as exc:
                streak.failed(exc, retry_in_s=delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(2 * delay_s, START_RETRY_CAP_S)

    async def stop(self) -> None:
        """Graceful shutdown: release leases and hand back work for an instant takeover."""
        self._stop.set()
        actors = list(self.actors.values())
        tasks = list(self.tasks.values())
        log.info("coordinator_stopping", owned=len(actors), running=len(tasks))
        # Stopped before it started (still waiting for Redis): it owns nothing and
        # joined nothing, and each round trip to a Redis that is away costs seconds.
        started = self._scheduler is not None
        if self._scheduler is not None:
            await self._scheduler.close()
        # Each step on its own: one failed release must not keep the other
        # scans waiting a lease TTL.
        for actor in actors:
            with contextlib.suppress(RedisError):
                await self.leases.release(actor.lease)
        if started:
            with contextlib.suppress(RedisError):
                await self.work.hand_back(tasks)
        self.runner.close()
        if started:
            with contextlib.suppress(RedisError):
                await worker_registry.leave(self.redis, self.settings.worker_id)
        for own_client in (self._renewal_redis, self._pipeline_redis):
            if own_client is not None:
                with contextlib.suppress(RedisError):
                    await own_client.aclose()
        metric_values.write_unwritten()
        log.info("coordinator_stopped", released=len(actors), handed_back=len(tasks))

    async def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run background work of this process in the coordinator's one scheduler."""
        if self._scheduler is None:
            raise CoordinatorError("coordinator not started")
        await self._scheduler.spawn(coroutine)

    # ---- scan ownership ----

    def room(self) -> int:
        if self.generation.lost or self._stop.is_set():
            return 0
        return self.settings.max_owned_scans - len(self.actors)

    async def adopt(self, scan_id: str) -> bool:
        """Try to become the scan's owner; start its actor if we did."""
        if scan_id in self.actors or self.room() <= 0 or self._scheduler is None:
            return False
        acquired = await self.leases.acquire(scan_id)
        if acquired is None:
            return False
        if self._stop.is_set():
            # Shutdown began while we were acquiring: the scheduler takes no
            # new actor, so hand the scan straight back.
            await self.leases.release(acquired.lease)
            return False
        await self._scheduler.spawn(self.register(acquired).run())
        return True

    def tasks_to_take(self) -> int:
        """How many of a new scan's tasks this process takes as it creates the scan
        (see Scans.write_new_scan): none unless it would claim the scan too."""
        if not self._run_strategies or self.room() <= 0 or self._scheduler is None:
            return 0
        return max(0, self.take_count())

    def queue_claim(self, pipe: Pipeline, scan_id: str) -> Claimed | None:
        """Queue this process's claim on a scan being created, in the round trip that
        creates it (see Scans.write_new_scan): its actor then exists before this
        process's consumers take the scan's work, which they run without asking Redis
        whether the scan is live, and whose reports the actor folds as handed over
        (see ScanActor.deliver). None when this process takes no scans now: the
        sweepers will. The function returned takes the replies of what was queued."""
        if self.room() <= 0 or self._scheduler is None:
            return None
        acquired_from = self.leases.queue_acquire(pipe, scan_id)

        def claimed(replies: Sequence[Any], taken: list[Task]) -> bool:
            acquired = acquired_from(replies)
            if self._stop.is_set():
                # Stopping began meanwhile: hand everything straight back, as stop() does.
                if acquired is not None:
                    self.run_in_background(self.hand_back(acquired.lease))
                self.run_in_background(self.hand_back_tasks(taken))
                return acquired is not None
            if acquired is not None:
                # Registered now, so the scan's tasks find it; its loop starts at the
                # scheduler's next turn.
                self.run_soon(self.register(acquired, fresh=True).run())
            for together in by_scan(taken):
                self.run_soon(self.start_tasks(together))
            return acquired is not None

        return claimed

    async def hand_back(self, lease: Lease) -> None:
        with contextlib.suppress(RedisError):
            await self.leases.release(lease)

    async def hand_back_tasks(self, tasks: list[Task]) -> None:
        if tasks:
            with contextlib.suppress(RedisError):
                await self.work.hand_back(tasks)

    def register(self, acquired: Acquired, *, fresh: bool = False) -> ScanActor:
        actor = ScanActor(acquired, self._deps, self.forget, fresh=fresh)
        self.actors[acquired.lease.scan_id] = actor
        return actor

    def forget(self, actor: ScanActor) -> None:
        if self.actors.get(actor.scan_id) is actor:
            del self.actors[actor.scan_id]
        if actor.fenced and not self._stop.is_set():
            # Its lease is gone (expired early, taken, or lapsed under us): let
            # any sweeper try the scan now, not when our last renewal said.
            self.run_soon(self.leases.mark_claimable(actor.scan_id))

    async def wake_all_actors(self, connection: object = None) -> None:
        """Every owned scan re-reads its mailbox now (a bell may have been lost)."""
        for actor in list(self.actors.values()):
            actor.wake()

    def poke(self, scan_id: str) -> None:
        actor = self.actors.get(scan_id)
        if actor is not None:
            actor.wake()

    def owned_epoch(self, scan_id: str) -> int | None:
        actor = self.actors.get(scan_id)
        if actor is None or actor.stopped or actor.view.terminal:
            return None
        if actor.lease.lapsed():
            return None  # lapsed by our clock, its actor not yet woken to end
        return actor.lease.epoch

    def deliver(self, scan_id: str, previous: str, entries: list[Entry]) -> None:
        """Entries this process appended to a scan it owns: to its actor directly."""
        actor = self.actors.get(scan_id)
        if actor is not None:
            actor.deliver(previous, entries)

    # ---- periodic duties ----

    async def renew_leases(self) -> None:
        actors = list(self.actors.values())
        ACTIVE_SCANS.set(len(actors))
        began = time.monotonic()
        try:
            lost = await self.leases.renew_all([actor.lease for actor in actors])
        finally:
            # Actors arm no timer for their lease: those whose lease lapsed by our own
            # clock (renewals failing, or too slow) are woken here to fence themselves.
            for actor in actors:
                if actor.lease.lapsed():
                    actor.wake()
        took_s = time.monotonic() - began
        if took_s > self.settings.lease_renew_interval_s:
            # Renewals this slow eat the lease's margin: the process is overloaded.
            log.warning("lease_renewal_slow", leases=len(actors), seconds=round(took_s, 3))
        lost_ids = {lease.scan_id for lease in lost}
        for actor in actors:
            # A finished scan's last publish deleted its lease: retiring, not lost. (Had
            # the lease been lost first, that publish is fenced by Redis all the same.)
            if actor.scan_id in lost_ids and not actor.view.terminal:
                log.warning("lease_lost", scan_id=actor.scan_id, epoch=actor.lease.epoch)
                actor.lease.local_deadline = 0.0  # fences every later write at once
                actor.wake()

    async def recheck_mailboxes(self) -> None:
        """Wake the actors whose mailbox holds mail they have not folded: the safety
        net for a lost doorbell (pub/sub drops what is published while it
        reconnects). One round trip, a script call per batch of owned scans."""
        actors = list(self.actors.values())
        if not actors:
            return

        def mailbox_of(actor: ScanActor) -> str:
            return keys.mailbox(actor.scan_id)

        batches = slot_batches(self.redis, actors, mailbox_of)
        async with self.redis.pipeline(transaction=False) as pipe:
            queue_batches(
                pipe,
                self.scripts.recheck_mailboxes,
                batches,
                mailbox_of,
                lambda batch: [actor.cursor for actor in batch],
            )
            replies = await pipe.execute()
        for batch, news in zip(batches, replies, strict=True):
            for position in news:
                batch[int(position) - 1].wake()

    async def prune_consumers(self) -> None:
        if self._run_strategies and not self.generation.lost:
            await self.work.prune_consumers()

    async def heartbeat(self) -> None:
        beat = WorkerBeat(
            worker_id=self.settings.worker_id,
            pid=self.settings.pid,
            started_at_ms=self._started_ms,
            heartbeat_ms=now_ms(),
            scans=len(self.actors),
            strategy_tasks=len(self.tasks),
            generation=self.generation.expected,
        )
        await worker_registry.heartbeat(self.redis, self.settings, beat)

    async def write_metrics(self) -> None:
        metric_values.write_unwritten()

    async def sweep(self) -> None:
        await self.sweeper.sweep()

    async def follow_evidence(self) -> None:
        """The evidence duty: every poll interval, or at once when a run needs an
        evaluation this process lacks; evaluations it locked are computed as jobs."""
        book = self.evidence
        while not self._stop.is_set():
            try:
                locked = await book.refresh()
                if locked:
                    await self.spawn(book.compute(locked))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away, an undecodable record: next time
                log.warning("evidence_refresh_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    book.wake.wait(), timeout=self.settings.evidence_poll_interval_s
                )

    async def check_generation(self) -> None:
        await self.generation.check()

    async def reclaim_work(self) -> None:
        if not self._run_strategies or self.generation.lost:
            return
        for bucket in self.work.buckets():
            if self._free_slots <= 0:
                return
            for task in await self.work.reclaim(bucket, self.take_count()):
                log.info(
                    "strategy_task_reclaimed",
                    scan_id=task.item.scan_id if task.item else None,
                    entry=task.entry_id,
                    delivery=task.delivery,
                )
                RECLAIMED_TASKS.inc()
                await self.start_tasks([task])

    async def refresh_work(self) -> None:
        await self.work.refresh(list(self.tasks.values()))

    # ---- doorbell and work consumption ----

    async def listen_doorbell(self) -> None:
        channel = keys.doorbell_channel(self.settings.worker_id)
        streak = FailureStreak("doorbell_reconnect", "doorbell_reconnected")
        while not self._stop.is_set():
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(channel)
                    streak.succeeded()
                    await self.wake_all_actors()  # bells rung while we were away are lost
                    # redis-py also reconnects by itself, raising nothing: hear of it.
                    connection = pubsub.connection
                    if connection is not None:
                        connection.register_connect_callback(self.wake_all_actors)
                    try:
                        async for message in pubsub.listen():
                            self.poke(message["data"].decode())
                    finally:
                        if connection is not None:
                            connection.deregister_connect_callback(self.wake_all_actors)
            except RedisError as exc:
                streak.failed(exc)
                await asyncio.sleep(CONSUMER_ERROR_BACKOFF_S)

    async def consume(self, bucket: int) -> None:
        client = dedicated(self.redis)  # one connection for this loop's blocking reads
        try:
            await self.consume_with(bucket, client)
        finally:
            if client is not self.redis:
                await client.aclose()

    async def consume_with(self, bucket: int, client: Redis) -> None:
        while not self._stop.is_set():
            await self.wait_for_slot()
            try:
                if self.generation.lost:
                    raise RedisError("generation lost")
                count = self.take_count()
                tasks = await self.work.take(bucket, count, self.settings.work_block_ms, client)
            except RedisError as exc:
                log.debug("work_take_failed", bucket=bucket, error=repr(exc))
                if "NOGROUP" in str(exc):
                    # Redis lost its data and the operator recovered it: the
                    # streams went with their consumer groups, so make them again.
                    with contextlib.suppress(RedisError):
                        await self.work.ensure_groups()
                await asyncio.sleep(CONSUMER_ERROR_BACKOFF_S)
                continue
            for together in by_scan(tasks):
                await self.start_tasks(together)

    def take_count(self) -> int:
        """How many tasks to take now: as many as there are slots while recent runs
        were all quick, else no more than there are free threads (at least one), so
        slow work is not held here while other processes could run it."""
        if self.runner.quick_lately():
            return self._free_slots
        return min(self._free_slots, max(1, self.runner.free_threads()))

    async def wait_for_slot(self) -> None:
        while self._free_slots <= 0:
            self._slot_freed.clear()
            await self._slot_freed.wait()

    async def start_tasks(self, tasks: list[Task]) -> None:
        """Run tasks of one scan taken together as one job (see StrategyRunner.run_together)."""
        assert self._scheduler is not None
        self._free_slots -= len(tasks)
        for task in tasks:
            self.tasks[task.entry_id] = task
        await self._scheduler.spawn(self.run_tasks(tasks))

    async def run_tasks(self, tasks: list[Task]) -> None:
        # A slot is held while the strategy waits to run or runs, not while its
        # report and acknowledgement are written: for quick strategies that writing
        # is most of a task's time, and holding slots for it starved the consumers.
        freed: set[str] = set()

        def free_slot(task: Task) -> None:
            if task.entry_id not in freed:
                freed.add(task.entry_id)
                self._free_slots += 1
                self._slot_freed.set()

        try:
            await self.runner.run_together(tasks, free_slot)
        except RedisError as exc:
            log.warning("strategy_task_redis_error", entries=len(tasks), error=repr(exc))
        finally:
            for task in tasks:
                self.tasks.pop(task.entry_id, None)
                free_slot(task)

    def adopt_soon(self, scan_id: str) -> None:
        """Claim a scan just created here without delaying the response."""
        self.run_soon(self.adopt(scan_id))

    def run_soon(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run in the one scheduler from synchronous code (closed on stop with
        the rest); dropped once stopping, as the scheduler takes no new job."""
        if self._scheduler is None or self._stop.is_set():
            coroutine.close()
            return
        self.run_in_background(self.spawn_unless_closed(coroutine))

    def run_in_background(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """A task kept referenced until it ends (the loop holds only weak ones)."""
        self._background.add(asyncio.ensure_future(coroutine))
        self._background = {task for task in self._background if not task.done()}

    async def spawn_unless_closed(self, coroutine: Coroutine[Any, Any, object]) -> None:
        assert self._scheduler is not None
        try:
            await self._scheduler.spawn(coroutine)
        except RuntimeError:  # aiojobs: the scheduler closed since run_soon was called
            coroutine.close()
