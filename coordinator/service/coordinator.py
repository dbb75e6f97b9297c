"""The Coordinator: the single scan coordinator of a worker process.

It wires the process's parts and runs them in its one scheduler (``Jobs``): the
scans it owns (``OwnedScans``, one ScanActor each), the strategy tasks it runs
(``StrategyTasks``), the sweeper, the doorbell listener, the evidence duty
(``EvidenceBook``) and the periodic duties (lease renewal, mailbox recheck,
sweeping, work reclaim and refresh, heartbeats, the generation watchdog, metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor.lease import LeaseStore
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.process import metric_values
from coordinator.process.clock import MS_PER_S, now_ms
from coordinator.process.failure_streak import FailureStreak
from coordinator.process.loop_lag import watch_loop_lag
from coordinator.service import worker_registry
from coordinator.service.doorbell import listen_doorbell
from coordinator.service.evidence import EvidenceBook, follow_evidence
from coordinator.service.jobs import Jobs
from coordinator.service.new_scan import Claimed
from coordinator.service.owned_scans import OwnedScans
from coordinator.service.periodic import run_periodic
from coordinator.service.strategy_tasks import StrategyTasks
from coordinator.service.sweeper import Sweeper
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import WorkerBeat
from coordinator.store.redis_client import SOCKET_TIMEOUT_S, connect
from coordinator.store.work import Task, WorkQueue, by_scan
from strategies.market_data import MarketDataProvider
from strategies.registry import Registry

log = structlog.get_logger(__name__)
# First pause after Redis could not be reached while starting; doubled each time.
START_RETRY_FIRST_S = 0.2
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
        self.jobs = Jobs()
        self.leases = LeaseStore(redis, settings, self._renewal_redis, autopipe)
        self.owned = OwnedScans(redis, autopipe, settings, self.leases, self.generation, self.jobs)
        self.mailbox = self.owned.mailbox
        self.work = WorkQueue(redis, settings, autopipe)
        self.evidence = EvidenceBook(redis, registry, provider, settings)
        self.runner = StrategyRunner(
            redis,
            self.mailbox,
            self.work,
            registry,
            provider,
            settings,
            autopipe,
            self.owned.local,
            evidence=self.evidence,
        )
        self.strategy_tasks = StrategyTasks(
            redis, settings, self.work, self.runner, self.generation, self.jobs
        )
        self.sweeper = Sweeper(redis, settings, self.owned.adopt, self.owned.room)
        self._run_strategies = run_strategies
        self._started_ms = now_ms()

    async def start(self) -> None:
        await self.connect_at_start()
        self.jobs.open()
        s = self.settings
        duties = [
            ("renew_leases", s.lease_renew_interval_s, self.owned.renew_leases),
            (
                "recheck_mailboxes",
                s.mailbox_poll_interval_ms / MS_PER_S,
                self.owned.recheck_mailboxes,
            ),
            ("sweep", s.sweep_interval_ms / MS_PER_S, self.sweeper.sweep),
            ("check_generation", s.generation_check_interval_ms / MS_PER_S, self.generation.check),
            ("heartbeat", s.worker_heartbeat_interval_ms / MS_PER_S, self.heartbeat),
            ("write_metrics", metric_values.WRITE_INTERVAL_S, write_metrics),
        ]
        if self._run_strategies:
            tasks = self.strategy_tasks
            duties += [
                ("reclaim_work", s.reclaim_interval_s, tasks.reclaim),
                ("refresh_work", s.work_heartbeat_interval_s, tasks.refresh),
                (
                    "prune_consumers",
                    keys.dead_consumer_idle_ms(s) / MS_PER_S,
                    tasks.prune_consumers,
                ),
            ]
        stopping = self.jobs.stopping
        for name, interval_s, duty in duties:
            await self.jobs.spawn(run_periodic(name, interval_s, duty, stopping))
        await self.jobs.spawn(listen_doorbell(self.redis, s.worker_id, self.owned, stopping))
        await self.jobs.spawn(watch_loop_lag(stopping))
        await self.jobs.spawn(follow_evidence(self.evidence, self.jobs, s.evidence_poll_interval_s))
        if self._run_strategies:
            for bucket in self.work.buckets():
                await self.jobs.spawn(self.strategy_tasks.consume(bucket))
        log.info("coordinator_started", worker_id=s.worker_id, generation=self.generation.expected)

    async def connect_at_start(self) -> None:
        """Adopt the generation and make the work groups, waiting for Redis if it
        is away: a gunicorn worker that exits at boot makes the master shut the
        whole service down, so a Redis blip during a worker restart must not."""
        delay_s = START_RETRY_FIRST_S
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
        # Taken before the scheduler closes: a cancelled actor leaves the owned scans.
        actors = list(self.owned.actors.values())
        tasks = list(self.strategy_tasks.running.values())
        log.info("coordinator_stopping", owned=len(actors), running=len(tasks))
        # Stopped before it started (still waiting for Redis): it owns nothing and
        # joined nothing, and each round trip to a Redis that is away costs seconds.
        started = self.jobs.started
        await self.jobs.close()
        await self.owned.release(actors)
        if started:
            await self.strategy_tasks.hand_back(tasks)
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
        """Run background work of this process (the web feed's) in the one scheduler."""
        await self.jobs.spawn(coroutine)

    def adopt_soon(self, scan_id: str) -> None:
        """Claim a scan just created here without delaying the response."""
        self.jobs.run_soon(self.owned.adopt(scan_id))

    async def heartbeat(self) -> None:
        beat = WorkerBeat(
            worker_id=self.settings.worker_id,
            pid=self.settings.pid,
            started_at_ms=self._started_ms,
            heartbeat_ms=now_ms(),
            scans=len(self.owned.actors),
            strategy_tasks=len(self.strategy_tasks.running),
            generation=self.generation.expected,
        )
        await worker_registry.heartbeat(self.redis, self.settings, beat)

    # ---- claiming a scan as it is created (see Scans.write_new_scan) ----

    def tasks_to_take(self) -> int:
        """How many of a new scan's tasks this process takes as it creates the scan:
        none unless it would claim the scan too."""
        if not self._run_strategies or self.owned.room() <= 0 or not self.jobs.started:
            return 0
        return max(0, self.strategy_tasks.take_count())

    def queue_claim(self, pipe: Pipeline, scan_id: str) -> Claimed | None:
        """Queue this process's claim on a scan being created, in the round trip
        that creates it: its actor then exists before this process's consumers
        take the scan's work, which they run without asking Redis whether the scan
        is live, and whose reports the actor folds as handed over (see
        ScanActor.deliver). None when this process takes no scans now: the
        sweepers will. The function returned takes the replies of what was queued."""
        if self.owned.room() <= 0 or not self.jobs.started:
            return None
        acquired_from = self.leases.queue_acquire(pipe, scan_id)

        def claimed(replies: Sequence[Any], taken: list[Task]) -> bool:
            acquired = acquired_from(replies)
            if self.jobs.stopping.is_set():
                # Stopping began meanwhile: hand everything straight back, as stop() does.
                if acquired is not None:
                    self.jobs.run_in_background(self.owned.hand_back(acquired.lease))
                self.jobs.run_in_background(self.strategy_tasks.hand_back(taken))
                return acquired is not None
            if acquired is not None:
                # Registered now, so the scan's tasks find it; its loop starts at the
                # scheduler's next turn.
                self.jobs.run_soon(self.owned.register(acquired, fresh=True).run())
            for together in by_scan(taken):
                self.jobs.run_soon(self.strategy_tasks.start(together))
            return acquired is not None

        return claimed


async def write_metrics() -> None:
    """The histogram increments this process summed in memory, to its metric files."""
    metric_values.write_unwritten()
