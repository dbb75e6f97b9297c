"""Reports this process appends to a scan it owns are handed to the scan's actor
with the id of the mailbox entry before them: when they continue from the
actor's cursor it folds them without reading the mailbox back; when anything
else came in between, it reads, and folds everything in mailbox order."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from coordinator.actor.lease import LeaseStore
from coordinator.actor.mailbox import Entry, LocalOwner, Mailbox
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import ActorDeps, ScanActor
from coordinator.process.clock import now_ms
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import snapshot_decoder
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Cancel, Report, ScanStatus
from tests.support import StaticProvider, completed_report, diagnostic_registry, make_settings

OWNER = "here:1"
STRATEGIES = ["noop", "sleep_100ms"]
THREE = ["noop", "sleep_100ms", "sleep_500ms"]


class Harness:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # Every step publishes what it folded (the coalescing has its own test).
        self.settings = make_settings(worker_id=OWNER, publish_min_interval_ms=0)
        self.delivered: list[tuple[str, list[Entry]]] = []
        # This process's appends: handed over, as the coordinator's are.
        self.local = Mailbox(
            redis,
            local_owner=LocalOwner(
                OWNER, lambda scan_id: None, self.record_delivery, lambda scan_id: None
            ),
        )
        # Another process's appends: only in the mailbox.
        self.elsewhere = Mailbox(redis)
        self.reads = 0

    def record_delivery(self, scan_id: str, previous: str, entries: list[Entry]) -> None:
        self.delivered.append((previous, entries))

    async def owned_scan(self, strategies: list[str] = STRATEGIES) -> tuple[str, ScanActor]:
        guard = GenerationGuard(self.redis)
        await guard.establish()
        scans = Scans(
            self.redis, self.settings, diagnostic_registry(), StaticProvider().symbols(), guard
        )
        scan_id = (await scans.create("alice", strategies, None, None)).snapshot.scan_id
        acquired = await LeaseStore(self.redis, self.settings).acquire(scan_id)
        assert acquired is not None
        autopipe = AutoPipeline(self.redis)
        read_after = self.elsewhere.read_after

        async def counted_read(scan_id: str, cursor: str) -> list[Entry]:
            self.reads += 1
            return await read_after(scan_id, cursor)

        counting = Mailbox(self.redis, autopipe)
        counting.read_after = counted_read  # type: ignore[method-assign]
        deps = ActorDeps(
            self.redis,
            autopipe,
            counting,
            Publisher(self.settings, autopipe),
            self.settings,
        )
        actor = ScanActor(acquired, deps, on_exit=lambda actor: None)
        await actor.step()  # this epoch's claim: a read, nothing in the mailbox yet
        self.reads = 0
        return scan_id, actor

    async def snapshot(self, scan_id: str):  # type: ignore[no-untyped-def]
        return snapshot_decoder.decode(await self.redis.hget(keys.scan(scan_id), "snap"))


def report(strategy: str) -> Report:
    return completed_report(strategy, worker=OWNER, at_ms=now_ms(), duration_ms=0.1)


@pytest.fixture
def harness(redis: Redis) -> Harness:
    return Harness(redis)


async def test_reports_that_continue_from_the_cursor_are_folded_without_a_read(
    harness: Harness,
) -> None:
    scan_id, actor = await harness.owned_scan()
    await harness.local.append_all(scan_id, [report(name) for name in STRATEGIES])
    [(previous, entries)] = harness.delivered
    assert previous == ""  # the mailbox was empty
    actor.deliver(previous, entries)
    assert await actor.step()
    assert harness.reads == 0
    final = await harness.snapshot(scan_id)
    assert final.status == ScanStatus.COMPLETED
    assert final.progress.strategies_completed == len(STRATEGIES)


async def test_an_entry_from_elsewhere_in_between_means_a_read_in_mailbox_order(
    harness: Harness,
) -> None:
    scan_id, actor = await harness.owned_scan()
    # Another process cancels (its doorbell not yet heard), then our reports land.
    await harness.elsewhere.append(scan_id, Cancel(by="alice", at_ms=now_ms()))
    await harness.local.append_all(scan_id, [report(name) for name in STRATEGIES])
    [(previous, entries)] = harness.delivered
    actor.deliver(previous, entries)
    assert await actor.step()
    assert harness.reads == 1
    final = await harness.snapshot(scan_id)
    assert final.status == ScanStatus.CANCELLED, "the cancel came first in the mailbox"


async def test_deliveries_out_of_order_are_each_folded_once(harness: Harness) -> None:
    scan_id, actor = await harness.owned_scan(THREE)
    for name in THREE[:2]:
        await harness.local.append_all(scan_id, [report(name)])
    first, second = harness.delivered
    actor.deliver(*second)  # the later append's hand-over arrives first
    assert not await actor.step()
    assert harness.reads == 1, "out of step with the cursor: read"
    actor.deliver(*first)  # already folded by that read: dropped
    assert not await actor.step()
    assert (await harness.snapshot(scan_id)).progress.strategies_completed == 2
    harness.reads = 0
    await harness.local.append_all(scan_id, [report(THREE[2])])
    actor.deliver(*harness.delivered[-1])  # in step again: no read
    assert await actor.step()
    assert harness.reads == 0
    final = await harness.snapshot(scan_id)
    assert final.status == ScanStatus.COMPLETED
    assert final.progress.strategies_completed == len(THREE)
