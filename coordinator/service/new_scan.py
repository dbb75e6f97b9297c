"""What creating a scan writes, as a plan: the commands of its one round trip.

A new scan's queued snapshot, timeline and tombstone (one script), its entry in
the lease index, its work items (taken in part by the creating process as they
are added) and a read of the generation marker go in one pipeline; the
creating process's claim on the scan, when it takes one, follows in the same
round trip (see Coordinator.queue_claim).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from redis.asyncio.client import Pipeline

from config.settings import Settings
from coordinator.errors import CoordinatorError
from coordinator.store import keys
from coordinator.store.codec import json_encoder, msgpack_encoder
from coordinator.store.records import ActorState, LifecycleEvent, ScanSnapshot, Tombstone, WorkItem
from coordinator.store.scripts import queue_call
from coordinator.store.scripts.scan import CreateScan
from coordinator.store.scripts.work import EnqueueAndTakeWork, EnqueueWork, StreamEntry
from coordinator.store.work import Task, WorkQueue

# Told what was queued for a claim: its replies, and the new scan's tasks taken with it.
Claimed = Callable[[Sequence[Any], list[Task]], bool]


class NewScanClaimer(Protocol):
    """The creating process's coordinator, which may claim a scan in the round trip
    that creates it, and take its work (see Coordinator.queue_claim)."""

    def tasks_to_take(self) -> int: ...

    def queue_claim(self, pipe: Pipeline, scan_id: str) -> Claimed | None: ...


class Written(NamedTuple):
    """The replies of a plan's round trip, read."""

    taken: list[Task]  # the scan's tasks the creating process took
    marker: bytes | None  # the generation marker, read after the create
    claim_replies: Sequence[Any]  # the replies of what the claimer queued


@dataclass(slots=True)
class NewScanPlan:
    create: CreateScan
    bucket: int
    items: list[WorkItem]
    # Set as the plan is queued: the work's enqueue call, and the claim queued after it.
    enqueue: EnqueueWork | EnqueueAndTakeWork | None = None
    claim: Claimed | None = None

    @property
    def scan_id(self) -> str:
        return self.create.scan_id

    def queue_work(self, pipe: Pipeline, work: WorkQueue, take: int = 0) -> None:
        """The lease index entry (claimable now), the work (``take`` of it taken by
        this process), then the generation marker: read after the create, so a
        retried create that landed on a Redis restarted empty is noticed and the id
        never handed out."""
        pipe.zadd(keys.lease_index(self.bucket), {self.scan_id: 0})
        (self.enqueue,) = work.enqueue_in(pipe, self.items, take)
        pipe.get(keys.GENERATION_KEY)

    def queue_all(self, pipe: Pipeline, work: WorkQueue, claimer: NewScanClaimer | None) -> None:
        """Everything in one round trip, the claim last. The room to take tasks and to
        claim is asked with nothing awaited in between, so the two agree on it."""
        take = claimer.tasks_to_take() if claimer is not None else 0
        queue_call(pipe, self.create)
        self.queue_work(pipe, work, take)
        self.claim = claimer.queue_claim(pipe, self.scan_id) if claimer is not None else None

    def written(self, replies: Sequence[Any], work: WorkQueue) -> Written:
        """Read the replies of queue_all's round trip."""
        _created, _indexed, enqueued, marker, *claim_replies = replies
        if self.enqueue is None:
            raise CoordinatorError(f"the plan of scan {self.scan_id} was read before it was queued")
        taken = self.enqueue.reply(enqueued)
        entries: list[StreamEntry] = taken if isinstance(taken, list) else []
        return Written(work.taken(self.bucket, entries), marker, claim_replies)


def plan_new_scan(snapshot: ScanSnapshot, state: ActorState, settings: Settings) -> NewScanPlan:
    """The plan of a queued scan's creation: its keys bounded by the live scan's TTL,
    a tombstone that outlives them, one work item per strategy."""
    scan_id = snapshot.scan_id
    created = LifecycleEvent(at=snapshot.created_at, event="created", detail=snapshot.user_id)
    tomb = Tombstone(
        scan_id=scan_id,
        user_id=snapshot.user_id,
        status="unknown",
        finished_at=snapshot.deadline_at,
    )
    create = CreateScan(
        scan_id=scan_id,
        user=snapshot.user_id,
        snap=json_encoder.encode(snapshot),
        state=msgpack_encoder.encode(state),
        status=snapshot.status.value,
        active_ttl_ms=keys.active_ttl_ms(settings),
        created_event=json_encoder.encode(created),
        tomb=json_encoder.encode(tomb),
        tomb_ttl_ms=keys.live_tombstone_ttl_ms(settings),
    )
    items = [
        WorkItem(
            scan_id=scan_id,
            strategy=strategy.name,
            symbols=snapshot.symbols,
            deadline_ms=state.deadline_ms,
        )
        for strategy in snapshot.strategies
    ]
    return NewScanPlan(create, keys.bucket_of(scan_id, settings.index_buckets), items)
