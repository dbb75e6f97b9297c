"""ScanActor: the single writer of one scan while it holds the scan's lease.

It reads its mailbox from its cursor, folds each message, and publishes the new
snapshot with a fenced compare-and-set. ``step()`` does one such round, so
tests can drive an actor without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor import fold
from coordinator.actor.lease import Acquired, Lease
from coordinator.actor.mailbox import READ_BATCH, Entry, Mailbox, entry_order
from coordinator.actor.publisher import Publisher
from coordinator.errors import LeaseLost
from coordinator.process.clock import MS_PER_S, iso, now_ms
from coordinator.process.metrics import SCAN_DURATION, SCANS_FINISHED
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import actor_state_decoder, results_decoder, snapshot_decoder
from coordinator.store.records import START_CURSOR, ScanStatus
from coordinator.store.scripts import queue_call
from coordinator.store.scripts.user import ClearUserActive

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ActorDeps:
    redis: Redis
    autopipe: AutoPipeline
    mailbox: Mailbox
    publisher: Publisher
    settings: Settings


def view_from(acquired: Acquired) -> fold.ScanView:
    """Rebuild the owner's state from the last published snapshot."""
    snapshot = snapshot_decoder.decode(acquired.snapshot_json)
    state = actor_state_decoder.decode(acquired.state_blob)
    results = results_decoder.decode(acquired.results_json) if acquired.results_json else []
    view = fold.ScanView(snapshot=snapshot, state=state, results=results)
    if snapshot.status == ScanStatus.QUEUED:
        at = now_ms()
        snapshot.status = ScanStatus.RUNNING
        snapshot.started_at = iso(at)
        view.dirty = True
    return view


class ScanActor:
    def __init__(
        self,
        acquired: Acquired,
        deps: ActorDeps,
        on_exit: Callable[[ScanActor], None],
        *,
        fresh: bool = False,
    ) -> None:
        """``fresh``: claimed in the round trip that created the scan (see
        Coordinator.queue_claim), so its mailbox is empty and stays so but for what
        wakes this actor or is delivered to it; and nobody has seen it running yet,
        so its first publish waits out the publish interval like any change: a
        quick scan's "running", progress and end leave as one snapshot. An actor
        that adopted a scan reads its mailbox and publishes its claim at once."""
        self.lease: Lease = acquired.lease
        self.view = view_from(acquired)
        self.view.dirty = True  # the first publish records this epoch as the writer
        self._deps = deps
        self._on_exit = on_exit
        self._wake = asyncio.Event()
        # The mailbox must be read: at start, and after any wake but a delivery.
        self._read_owed = not fresh
        self._step_owed_at_start = not fresh
        # Entries this process appended, by the id of the mailbox entry before them.
        self._delivered: dict[str, list[Entry]] = {}
        # When the last publish went out; an adopting actor's claim is due at once.
        self._published_mono = time.monotonic() if fresh else -math.inf
        self.stopped = False
        # Set when it stopped because its lease was lost (fenced), not finished.
        self.fenced = False

    @property
    def scan_id(self) -> str:
        return self.lease.scan_id

    def wake(self) -> None:
        """Something may be in the mailbox: the next step reads it."""
        self._read_owed = True
        self._wake.set()

    def deliver(self, previous: str, entries: list[Entry]) -> None:
        """Entries this process just appended, with the id of the mailbox's entry
        before them ('' for none). When they continue from the cursor, the next
        step folds them as they are, without reading them back from Redis (one
        round trip, and decoding, less per batch of reports); otherwise it reads."""
        self._delivered[previous] = entries
        self._wake.set()

    async def step(self) -> bool:
        """Fold everything waiting, settle, publish if anything changed. True once terminal."""
        # A step reads the mailbox unless all it was woken for is deliveries that
        # continued from the cursor (a step on the clock reads: it settles on
        # everything there is).
        if not self.fold_delivered() or self._read_owed:
            self._read_owed = False
            try:
                await self.read_mailbox()
            except BaseException:
                self._read_owed = True
                raise
        fold.settle(self.view, now_ms())
        if self.view.dirty and not self.held_back():
            await self._deps.publisher.publish(self.lease, self.view)
            # Only an accepted publish starts the interval: after a failed one the
            # step is retried on the error path's schedule, not as a held publish.
            self._published_mono = time.monotonic()
        return self.view.terminal

    async def read_mailbox(self) -> None:
        while True:
            entries = await self._deps.mailbox.read_after(self.scan_id, self.view.state.cursor)
            self.fold_all(entries)
            if len(entries) < READ_BATCH:
                return

    def fold_delivered(self) -> bool:
        """Fold the delivered entries that continue the mailbox from the cursor;
        whether any did. A delivery that does not (another process appended in
        between, or one of our appends is still on its way) means a read: the
        mailbox holds them all."""
        folded = False
        while self._delivered:
            # '': the mailbox was empty, which continues only a cursor at its start.
            after = self.cursor if self.cursor != START_CURSOR else ""
            entries = self._delivered.pop(after, None)
            if entries is None:
                # What a mailbox read already folded is dropped; anything else is
                # out of step with the cursor.
                cursor = entry_order(self.cursor)
                if any(
                    entry_order(later[-1].entry_id) > cursor for later in self._delivered.values()
                ):
                    self._read_owed = True
                self._delivered.clear()
                return folded
            self.fold_all(entries)
            folded = True
        return folded

    def fold_all(self, entries: list[Entry]) -> None:
        for entry in entries:
            fold.apply(self.view, entry.entry_id, entry.message)
            # Settle after each entry, so the outcome follows mailbox order and
            # not how entries were batched: a cancel appended after the last
            # report finds the scan already completed.
            fold.settle(self.view, now_ms())

    def held_back(self) -> bool:
        """Folded changes waiting for the publish interval."""
        return self.view.dirty and self.until_publish_due_s() > 0

    def until_publish_due_s(self) -> float:
        """Seconds until a change may be published. Progress is published at most
        once per publish_min_interval_ms: reports that land meanwhile go out together
        in the next snapshot (one write and one feed message instead of several).
        A terminal snapshot is never held back."""
        if self.view.terminal:
            return 0.0
        interval_s = self._deps.settings.publish_min_interval_ms / MS_PER_S
        return self._published_mono + interval_s - time.monotonic()

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(scan_id=self.scan_id, epoch=self.lease.epoch)
        log.info("scan_actor_started", status=self.view.snapshot.status.value)
        try:
            await self.loop()
        except LeaseLost as exc:
            self.fenced = True
            log.warning("scan_actor_fenced", reason=exc.reason)
        finally:
            self.stopped = True
            self._on_exit(self)

    async def loop(self) -> None:
        step_owed = self._step_owed_at_start  # publishes this epoch's claim
        while True:
            # A lost lease (renewal refused, or our own deadline passed) ends the
            # actor now, not at its next publish: with no mail it may never publish.
            self.lease.check()
            failed = False
            if step_owed:
                try:
                    if await self.step():
                        await self.retire()
                        return
                except RedisError as exc:
                    # Keep trying while the lease may still be ours; lease.check()
                    # raises LeaseLost once our own clock says it may have lapsed.
                    log.warning("scan_actor_redis_error", error=repr(exc))
                    self.lease.check()
                    failed = True
            await self.wait(retry_soon=failed)
            step_owed = True

    @property
    def cursor(self) -> str:
        """The id of the last mailbox entry this actor folded."""
        return self.view.state.cursor

    async def wait(self, *, retry_soon: bool = False) -> None:
        """Sleep until there is a reason to act: woken (a doorbell, a local append,
        the coordinator's batched mailbox recheck, a lease lost or lapsed by our own
        clock, which the coordinator's renewal duty tells), the scan's deadline, a
        held-back publish falling due, or a failed step's retry. An idle actor costs
        no Redis round trips and arms no timer for its lease: at 10,000 owned scans,
        waking each at its lease's local deadline (to find it renewed) cost a loaded
        worker a quarter of its CPU. Safety does not rest on that wake: every write
        checks the lease first, and Redis fences a stale epoch."""
        reasons = [(self.view.state.deadline_ms - now_ms()) / MS_PER_S]
        if retry_soon:
            reasons.append(self._deps.settings.mailbox_poll_interval_ms / MS_PER_S)
        if self.view.dirty and (self.held_back() or not retry_soon):
            # A change not yet published: when it falls due, or at once if it is due
            # (a fresh actor whose loop starts after its first interval has passed,
            # on a loaded process, would otherwise never publish: seen at 10,000 scans).
            reasons.append(self.until_publish_due_s())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(reasons)))
        self._wake.clear()

    async def retire(self) -> None:
        """After the terminal publish: drop the scan from the live indexes."""
        snapshot = self.view.snapshot
        settings = self._deps.settings
        log.info("scan_finished", status=snapshot.status.value)
        SCANS_FINISHED.labels(snapshot.status.value).inc()
        SCAN_DURATION.observe(seconds_between(snapshot.created_at, snapshot.finished_at))
        index = keys.lease_index(keys.bucket_of(self.scan_id, settings.index_buckets))

        def queue(pipe: Pipeline) -> None:
            pipe.zrem(index, self.scan_id)
            queue_call(pipe, ClearUserActive(user_id=snapshot.user_id, scan_id=self.scan_id))

        await self._deps.autopipe.run(queue)


def seconds_between(start_iso: str, end_iso: str | None) -> float:
    if end_iso is None:
        return 0.0
    return (datetime.fromisoformat(end_iso) - datetime.fromisoformat(start_iso)).total_seconds()
