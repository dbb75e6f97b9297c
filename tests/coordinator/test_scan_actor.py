"""A scan actor driven one step at a time against a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import pytest
from redis.asyncio import Redis

from coordinator.actor.lease import LeaseStore
from coordinator.actor.mailbox import Mailbox
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import ActorDeps, ScanActor
from coordinator.process.clock import now_ms
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import snapshot_decoder
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Cancel, Report, ScanStatus, Started, StrategyStatus
from tests.support import StaticProvider, diagnostic_registry, eventually, make_settings

# Longer than any test runs: a held-back publish would only go out at the end.
HELD_BACK_MS = 600_000


class Harness:
    def __init__(self, redis: Redis, url: str) -> None:
        self.redis = redis
        # Every step publishes what it folded (the coalescing has its own test).
        self.settings = make_settings(redis_url=url, publish_min_interval_ms=0)
        self.mailbox = Mailbox(redis)
        self.guard = GenerationGuard(redis)
        self.scans = Scans(
            redis, self.settings, diagnostic_registry(), StaticProvider().symbols(), self.guard
        )

    def store(self, worker_id: str) -> LeaseStore:
        return LeaseStore(self.redis, msgspec.structs.replace(self.settings, worker_id=worker_id))

    async def actor(
        self, scan_id: str, worker_id: str = "a:1", *, fresh: bool = False, **overrides: object
    ) -> ScanActor:
        settings = msgspec.structs.replace(self.settings, worker_id=worker_id, **overrides)
        acquired = await self.store(worker_id).acquire(scan_id)
        assert acquired is not None
        autopipe = AutoPipeline(self.redis)
        deps = ActorDeps(
            self.redis,
            autopipe,
            self.mailbox,
            Publisher(settings, autopipe),
            settings,
        )
        return ScanActor(acquired, deps, on_exit=lambda actor: None, fresh=fresh)

    async def snapshot(self, scan_id: str):  # type: ignore[no-untyped-def]
        return snapshot_decoder.decode(await self.redis.hget(keys.scan(scan_id), "snap"))

    async def report(self, scan_id: str, strategy: str, attempt: int = 1) -> None:
        await self.mailbox.append(
            scan_id,
            Report(
                report_id=f"{strategy}:{attempt}",
                strategy=strategy,
                attempt=attempt,
                status=StrategyStatus.COMPLETED,
                worker="w:9",
                at_ms=now_ms(),
                duration_ms=1.0,
            ),
        )


@pytest.fixture
async def harness(redis: Redis, shared_redis_server) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(redis, shared_redis_server.url)
    await h.guard.establish()
    return h


async def new_scan(h: Harness, strategies: list[str]) -> str:
    created = await h.scans.create("alice", strategies, None, None)
    return created.snapshot.scan_id


async def test_first_step_publishes_running_with_the_epoch(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    assert not await actor.step()
    snapshot = await harness.snapshot(scan_id)
    assert snapshot.status == ScanStatus.RUNNING
    assert snapshot.version == 2 and snapshot.epoch == 1 and snapshot.owner == "a:1"
    assert snapshot.progress.total_strategies == 2


async def test_steps_fold_reports_and_complete(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    await actor.step()
    await harness.report(scan_id, "noop")
    await harness.report(scan_id, "noop")  # a client retry: same report id
    assert not await actor.step()
    assert (await harness.snapshot(scan_id)).progress.strategies_completed == 1
    await harness.report(scan_id, "sleep_100ms")
    assert await actor.step()
    final = await harness.snapshot(scan_id)
    assert final.status == ScanStatus.COMPLETED
    assert final.progress.strategies_completed == 2


async def test_progress_is_held_back_within_the_publish_interval_but_the_end_is_not(
    harness: Harness,
) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id, publish_min_interval_ms=HELD_BACK_MS)
    await actor.step()  # the first publish (this epoch's claim) is never held back
    assert (await harness.snapshot(scan_id)).version == 2
    await harness.report(scan_id, "noop")
    assert not await actor.step()
    assert (await harness.snapshot(scan_id)).version == 2  # folded, held back
    assert actor.until_publish_due_s() > 0
    await harness.report(scan_id, "sleep_100ms")
    assert await actor.step()
    final = await harness.snapshot(scan_id)
    assert final.version == 3 and final.status == ScanStatus.COMPLETED
    assert final.progress.strategies_completed == 2


async def test_a_fresh_actor_whose_loop_starts_after_its_interval_still_publishes(
    harness: Harness,
) -> None:
    # A scan claimed as it was created holds its first publish for the interval; on
    # a loaded process its loop may start after the interval has passed (here it is
    # zero). It must then publish at once, not wait for a reason that never comes.
    scan_id = await new_scan(harness, ["sleep_100ms"])
    actor = await harness.actor(scan_id, fresh=True, publish_min_interval_ms=0)
    running = asyncio.ensure_future(actor.run())
    try:

        async def claimed() -> bool:
            snapshot = await harness.snapshot(scan_id)
            return snapshot.version == 2 and snapshot.status == ScanStatus.RUNNING

        await eventually(claimed, what="the fresh actor's first publish")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_step_without_mail_publishes_nothing(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop"])
    actor = await harness.actor(scan_id)
    await actor.step()
    version = (await harness.snapshot(scan_id)).version
    await actor.step()
    assert (await harness.snapshot(scan_id)).version == version


async def test_takeover_rebuilds_from_snapshot_and_mailbox_after_cursor(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms", "sleep_500ms"])
    first = await harness.actor(scan_id, "a:1")
    await harness.report(scan_id, "noop")
    await first.step()
    await harness.report(scan_id, "sleep_100ms")  # arrives after a:1's last publish
    await harness.redis.delete(keys.lease(scan_id))  # a:1 dies; its lease lapses
    second = await harness.actor(scan_id, "b:2")
    assert second.lease.epoch == 2
    assert second.view.strategy("noop").status == StrategyStatus.COMPLETED
    await second.step()
    snapshot = await harness.snapshot(scan_id)
    assert snapshot.progress.strategies_completed == 2
    assert snapshot.epoch == 2 and snapshot.owner == "b:2"
    events = [event.event for event in await harness.scans.lifecycle(scan_id, "alice")]
    assert "lease_lost" in events and "taken_over" in events


async def test_superseded_attempt_is_ignored_across_steps(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    for attempt, worker in ((1, "w:1"), (2, "w:2")):
        await harness.mailbox.append(
            scan_id, Started(strategy="noop", attempt=attempt, worker=worker, at_ms=now_ms())
        )
    await harness.report(scan_id, "noop", attempt=1)  # the zombie attempt
    await actor.step()
    assert (await harness.snapshot(scan_id)).progress.strategies_completed == 0
    await harness.report(scan_id, "noop", attempt=2)
    await actor.step()
    assert (await harness.snapshot(scan_id)).progress.strategies_completed == 1


async def test_cancel_message_ends_the_scan_cancelled(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    await harness.mailbox.append(scan_id, Cancel(by="alice", at_ms=now_ms()))
    assert await actor.step()
    assert (await harness.snapshot(scan_id)).status == ScanStatus.CANCELLED


async def test_cancel_after_the_last_report_finds_the_scan_completed(harness: Harness) -> None:
    """The outcome follows mailbox order, however the entries are batched into steps
    (found by the model test: one step over report, report, cancel said cancelled)."""
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    await harness.report(scan_id, "noop")
    await harness.report(scan_id, "sleep_100ms")
    await harness.mailbox.append(scan_id, Cancel(by="alice", at_ms=now_ms()))
    assert await actor.step()
    assert (await harness.snapshot(scan_id)).status == ScanStatus.COMPLETED


async def test_deadline_ends_the_scan_partial(harness: Harness) -> None:
    scan_id = await new_scan(harness, ["noop", "sleep_100ms"])
    actor = await harness.actor(scan_id)
    await harness.report(scan_id, "noop")
    actor.view.state.deadline_ms = now_ms() - 1
    assert await actor.step()
    snapshot = await harness.snapshot(scan_id)
    assert snapshot.status == ScanStatus.PARTIAL
    assert [s.status for s in snapshot.strategies] == [
        StrategyStatus.COMPLETED,
        StrategyStatus.TIMED_OUT,
    ]
