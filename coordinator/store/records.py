"""Every record stored in Redis or sent through a mailbox, under one Base.

JSON for what clients read (the snapshot, results, timeline); MessagePack for
what only the service reads (actor state, mailbox messages, work items).
"""

from __future__ import annotations

import enum

import msgspec

from strategies.findings import Skip
from strategies.opportunity import Opportunity


class Base(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Common base of stored records."""


class ScanStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_SCAN_STATUSES = frozenset(
    {ScanStatus.COMPLETED, ScanStatus.PARTIAL, ScanStatus.FAILED, ScanStatus.CANCELLED}
)


class StrategyStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


TERMINAL_STRATEGY_STATUSES = frozenset(
    {
        StrategyStatus.COMPLETED,
        StrategyStatus.FAILED,
        StrategyStatus.TIMED_OUT,
        StrategyStatus.CANCELLED,
    }
)


class Progress(Base):
    strategies_completed: int
    total_strategies: int
    percentage: float
    opportunities_found_so_far: int


class StrategyState(Base):
    name: str
    status: StrategyStatus = StrategyStatus.PENDING
    attempt: int = 0
    opportunities: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: float | None = None
    error: str | None = None
    # What the strategy looked at (symbols, pairs or candidates), examples of why it
    # said nothing about some (unusual codes before no_signal) and the count per code
    # over all of them.
    evaluated: int = 0
    skipped: list[Skip] = msgspec.field(default_factory=list)
    skipped_counts: dict[str, int] = msgspec.field(default_factory=dict)


class ScanSnapshot(Base):
    """What clients read: the owner's published view of one scan."""

    scan_id: str
    user_id: str
    status: ScanStatus
    version: int
    progress: Progress
    strategies: list[StrategyState]
    symbols: list[str]
    created_at: str
    deadline_at: str
    updated_at: str
    started_at: str | None = None
    finished_at: str | None = None
    market_data_as_of: str | None = None
    data_source: str | None = None
    owner: str | None = None
    epoch: int = 0
    cancel_reason: str | None = None


class ScanResults(Base):
    scan_id: str
    status: ScanStatus
    partial: bool
    market_data_as_of: str | None
    opportunities: list[Opportunity]
    version: int


# The cursor of an owner that has folded nothing yet: before every stream entry.
START_CURSOR = "0-0"


class ActorState(Base):
    """The owner's private state, published atomically with the snapshot.

    ``cursor`` is the id of the last mailbox entry folded; ``applied`` the ids
    of reports already applied, so a repeat changes nothing.
    """

    cursor: str = START_CURSOR
    applied: list[str] = msgspec.field(default_factory=list)
    deadline_ms: int = 0


class LifecycleEvent(Base):
    at: str
    event: str
    worker: str | None = None
    epoch: int | None = None
    strategy: str | None = None
    detail: str | None = None


# ---- mailbox messages: a tagged union, dispatched with `match` ----


class Started(Base, tag="started"):
    strategy: str
    attempt: int
    worker: str
    at_ms: int


class Report(Base, tag="report"):
    """A strategy's outcome. ``report_id`` is stable across client retries."""

    report_id: str
    strategy: str
    attempt: int
    status: StrategyStatus
    worker: str
    at_ms: int
    duration_ms: float
    opportunities: list[Opportunity] = msgspec.field(default_factory=list)
    error: str | None = None
    market_data_as_of_ms: int | None = None
    data_source: str | None = None
    # Summarised by the worker (see strategies.findings.summarise): mailbox
    # messages stay small whatever the universe.
    evaluated: int = 0
    skipped: list[Skip] = msgspec.field(default_factory=list)
    skipped_counts: dict[str, int] = msgspec.field(default_factory=dict)


class Cancel(Base, tag="cancel"):
    by: str
    at_ms: int
    reason: str = "cancelled by user"


MailboxMessage = Started | Report | Cancel


class WorkItem(Base):
    """One strategy of one scan, waiting in a shared work stream."""

    scan_id: str
    strategy: str
    symbols: list[str]
    deadline_ms: int


class SnapshotVersion(msgspec.Struct):
    """The two fields of a published snapshot a reader may need, decoded without the rest."""

    version: int
    status: ScanStatus


class WorkerBeat(msgspec.Struct):
    """A coordinator's heartbeat: who it is and its load (see worker_registry)."""

    worker_id: str
    pid: int
    started_at_ms: int
    heartbeat_ms: int
    scans: int
    strategy_tasks: int
    generation: str | None


class WorkerView(msgspec.Struct):
    """A live worker as the admin listing shows it."""

    worker_id: str
    pid: int
    heartbeat_age_ms: int
    uptime_s: float
    scans: int
    strategy_tasks: int


class Tombstone(Base):
    """What remains of a scan after its retention: who owned it and how it ended."""

    scan_id: str
    user_id: str
    status: str
    finished_at: str
