"""The fold: how one mailbox message changes a scan. Pure and idempotent.

A message seen twice changes nothing the second time: reports carry ids, a
strategy already finished ignores later reports, and a report from an attempt
older than the latest one started is superseded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from coordinator.actor.conflicts import with_conflicts
from coordinator.process.clock import iso
from coordinator.store.records import (
    TERMINAL_SCAN_STATUSES,
    TERMINAL_STRATEGY_STATUSES,
    ActorState,
    Cancel,
    LifecycleEvent,
    MailboxMessage,
    Progress,
    Report,
    ScanSnapshot,
    ScanStatus,
    Started,
    StrategyState,
    StrategyStatus,
)
from strategies.opportunity import Opportunity

# How many report ids to remember; a scan has one per strategy attempt.
APPLIED_IDS_KEPT = 1024
PERCENT = 100.0
# Why a strategy that the scan's deadline cut short is timed_out; such a
# strategy makes the scan partial even when its report settles the scan.
DEADLINE_REACHED = "scan deadline reached"
# A strategy whose budget was the deadline reports its timeout a hair early by
# the wall clock: its timer runs on the monotonic clock and `now_ms` truncates.
DEADLINE_CLOCK_SLACK_MS = 5


@dataclass(slots=True)
class ScanView:
    """The owner's working copy of a scan between two publishes."""

    snapshot: ScanSnapshot
    state: ActorState
    results: list[Opportunity]
    events: list[LifecycleEvent] = field(default_factory=list)
    results_changed: bool = False
    dirty: bool = False

    @property
    def terminal(self) -> bool:
        return self.snapshot.status in TERMINAL_SCAN_STATUSES

    def strategy(self, name: str) -> StrategyState | None:
        for item in self.snapshot.strategies:
            if item.name == name:
                return item
        return None

    def record(self, at_ms: int, event: str, **details: object) -> None:
        self.events.append(LifecycleEvent(at=iso(at_ms), event=event, **details))  # type: ignore[arg-type]


def apply(view: ScanView, entry_id: str, message: MailboxMessage | None) -> None:
    """Fold one mailbox entry into the view and advance the cursor past it."""
    view.state.cursor = entry_id
    view.dirty = True
    if view.terminal or message is None:
        return
    match message:
        case Started():
            apply_started(view, message)
        case Report():
            apply_report(view, message)
        case Cancel():
            apply_cancel(view, message)


def apply_started(view: ScanView, message: Started) -> None:
    item = view.strategy(message.strategy)
    if item is None or item.status in TERMINAL_STRATEGY_STATUSES or message.attempt <= item.attempt:
        return
    item.status = StrategyStatus.RUNNING
    item.attempt = message.attempt
    item.started_at = iso(message.at_ms)
    view.record(
        message.at_ms,
        "strategy_started",
        strategy=message.strategy,
        worker=message.worker,
        detail=f"attempt {message.attempt}",
    )


def apply_report(view: ScanView, message: Report) -> None:
    item = view.strategy(message.strategy)
    if item is None or message.report_id in view.state.applied:
        return
    if item.status in TERMINAL_STRATEGY_STATUSES or message.attempt < item.attempt:
        return  # a repeat, or a superseded attempt reporting late
    view.state.applied.append(message.report_id)
    del view.state.applied[:-APPLIED_IDS_KEPT]
    if item.started_at is None and message.attempt == 1:
        # A first attempt that finished quickly never said it started (see
        # started_notice_delay_ms): its report carries when it did.
        started_ms = message.at_ms - round(message.duration_ms)
        item.started_at = iso(started_ms)
        view.record(
            started_ms,
            "strategy_started",
            strategy=message.strategy,
            worker=message.worker,
            detail=f"attempt {message.attempt}",
        )
    item.status = message.status
    item.attempt = message.attempt
    item.finished_at = iso(message.at_ms)
    item.duration_ms = message.duration_ms
    item.error = message.error
    deadline_ms = view.state.deadline_ms - DEADLINE_CLOCK_SLACK_MS
    if message.status == StrategyStatus.TIMED_OUT and message.at_ms >= deadline_ms:
        # Its budget was the scan's deadline (not its own timeout): the deadline
        # came before every strategy finished, whichever of the two is folded first.
        item.error = DEADLINE_REACHED
    if message.opportunities:
        # Results stand in the scan's strategy order, not in the order reports
        # happened to arrive: the same scan gives the same list, with or without a
        # takeover or a retry in between.
        position = 0
        for earlier in view.snapshot.strategies:
            if earlier is item:
                break
            position += earlier.opportunities
        view.results[position:position] = message.opportunities
        view.results[:] = with_conflicts(view.results)
        view.results_changed = True
    item.opportunities = len(message.opportunities)
    item.evaluated = message.evaluated
    item.skipped = message.skipped
    item.skipped_counts = message.skipped_counts
    if message.market_data_as_of_ms is not None and view.snapshot.market_data_as_of is None:
        view.snapshot.market_data_as_of = iso(message.market_data_as_of_ms)
        view.snapshot.data_source = message.data_source
    view.record(
        message.at_ms,
        "strategy_finished",
        strategy=message.strategy,
        worker=message.worker,
        detail=finish_detail(message),
    )


def finish_detail(message: Report) -> str:
    if message.error:
        return f"{message.status}: {message.error}"
    return f"{message.status}: {len(message.opportunities)} opportunities"


def apply_cancel(view: ScanView, message: Cancel) -> None:
    for item in view.snapshot.strategies:
        if item.status not in TERMINAL_STRATEGY_STATUSES:
            item.status = StrategyStatus.CANCELLED
    view.snapshot.cancel_reason = message.reason
    finish(view, ScanStatus.CANCELLED, message.at_ms)


def settle(view: ScanView, now_ms: int) -> None:
    """End the scan if every strategy reported, or if its deadline has come."""
    if view.terminal:
        return
    strategies = view.snapshot.strategies
    if all(item.status in TERMINAL_STRATEGY_STATUSES for item in strategies):
        if any(item.error == DEADLINE_REACHED for item in strategies):
            finish(view, ScanStatus.PARTIAL, now_ms)
            return
        any_completed = any(item.status == StrategyStatus.COMPLETED for item in strategies)
        finish(view, ScanStatus.COMPLETED if any_completed else ScanStatus.FAILED, now_ms)
    elif now_ms >= view.state.deadline_ms:
        for item in strategies:
            if item.status not in TERMINAL_STRATEGY_STATUSES:
                item.status = StrategyStatus.TIMED_OUT
                item.error = DEADLINE_REACHED
        finish(view, ScanStatus.PARTIAL, now_ms)


def finish(view: ScanView, status: ScanStatus, at_ms: int) -> None:
    view.snapshot.status = status
    view.snapshot.finished_at = iso(at_ms)
    view.dirty = True
    view.record(at_ms, "finished", detail=status.value)


def progress_of(strategies: Sequence[StrategyState], opportunities: int) -> Progress:
    total = len(strategies)
    done = sum(1 for item in strategies if item.status in TERMINAL_STRATEGY_STATUSES)
    return Progress(
        strategies_completed=done,
        total_strategies=total,
        percentage=round(PERCENT * done / total, 1) if total else 0.0,
        opportunities_found_so_far=opportunities,
    )
