"""The fold is pure and idempotent: each rule on a hand-built view."""

from __future__ import annotations

from coordinator.actor import fold
from coordinator.process.clock import iso
from coordinator.store.records import (
    ActorState,
    Cancel,
    Progress,
    Report,
    ScanSnapshot,
    ScanStatus,
    Started,
    StrategyState,
    StrategyStatus,
)
from strategies.opportunity import Opportunity
from tests.support import sample_opportunity

NOW = 1_000_000
DEADLINE = NOW + 60_000


def view_of(*names: str) -> fold.ScanView:
    snapshot = ScanSnapshot(
        scan_id="s" * 32,
        user_id="alice",
        status=ScanStatus.RUNNING,
        version=3,
        progress=Progress(
            strategies_completed=0,
            total_strategies=len(names),
            percentage=0.0,
            opportunities_found_so_far=0,
        ),
        strategies=[StrategyState(name=name) for name in names],
        symbols=["BTC/USDT"],
        created_at="t",
        deadline_at="t",
        updated_at="t",
    )
    return fold.ScanView(snapshot=snapshot, state=ActorState(deadline_ms=DEADLINE), results=[])


def opportunity(symbol: str = "BTC/USDT") -> Opportunity:
    return sample_opportunity(symbol)


def report(
    strategy: str,
    attempt: int = 1,
    status: StrategyStatus = StrategyStatus.COMPLETED,
    found: int = 1,
    at_ms: int = NOW,
) -> Report:
    return Report(
        report_id=f"{strategy}:{attempt}",
        strategy=strategy,
        attempt=attempt,
        status=status,
        worker="w:1",
        at_ms=at_ms,
        duration_ms=1.0,
        opportunities=[opportunity() for _ in range(found)],
    )


def test_report_applies_once_even_when_delivered_twice() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    fold.apply(view, "2-0", report("a"))
    assert view.strategy("a").status == StrategyStatus.COMPLETED
    assert len(view.results) == 1
    assert view.state.applied == ["a:1"]
    assert view.state.cursor == "2-0"


def test_a_quick_first_attempt_that_never_said_it_started_gets_its_start_from_its_report() -> None:
    view = view_of("a")
    fold.apply(view, "1-0", report("a", at_ms=NOW))  # ran duration_ms=1.0 before NOW
    item = view.strategy("a")
    assert item.started_at == iso(NOW - 1) and item.finished_at == iso(NOW)
    assert [event.event for event in view.events] == ["strategy_started", "strategy_finished"]


def test_a_started_notice_is_not_recorded_twice_by_the_report() -> None:
    view = view_of("a")
    fold.apply(view, "1-0", Started(strategy="a", attempt=1, worker="w:1", at_ms=NOW - 100))
    fold.apply(view, "2-0", report("a", at_ms=NOW))
    assert view.strategy("a").started_at == iso(NOW - 100)
    assert [event.event for event in view.events] == ["strategy_started", "strategy_finished"]


def test_superseded_attempt_reporting_late_is_ignored() -> None:
    view = view_of("a")
    fold.apply(view, "1-0", Started(strategy="a", attempt=1, worker="w:1", at_ms=NOW))
    fold.apply(view, "2-0", Started(strategy="a", attempt=2, worker="w:2", at_ms=NOW))
    fold.apply(view, "3-0", report("a", attempt=1, found=5))
    assert view.strategy("a").status == StrategyStatus.RUNNING
    assert view.results == []
    fold.apply(view, "4-0", report("a", attempt=2, found=2))
    assert view.strategy("a").status == StrategyStatus.COMPLETED
    assert len(view.results) == 2


def test_report_after_strategy_finished_changes_nothing() -> None:
    view = view_of("a")
    fold.apply(view, "1-0", report("a", attempt=2, found=1))
    fold.apply(view, "2-0", report("a", attempt=3, found=4))
    assert view.strategy("a").attempt == 2
    assert len(view.results) == 1


def test_all_strategies_reported_completes() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    fold.settle(view, NOW)
    assert view.snapshot.status == ScanStatus.RUNNING
    fold.apply(view, "2-0", report("b", status=StrategyStatus.FAILED, found=0))
    fold.settle(view, NOW)
    assert view.snapshot.status == ScanStatus.COMPLETED


def test_every_strategy_failed_ends_failed() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a", status=StrategyStatus.FAILED, found=0))
    fold.apply(view, "2-0", report("b", status=StrategyStatus.TIMED_OUT, found=0))
    fold.settle(view, NOW)
    assert view.snapshot.status == ScanStatus.FAILED


def test_deadline_ends_partial_with_late_strategies_timed_out() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    fold.settle(view, DEADLINE)
    assert view.snapshot.status == ScanStatus.PARTIAL
    assert view.strategy("b").status == StrategyStatus.TIMED_OUT
    assert view.strategy("a").status == StrategyStatus.COMPLETED


def test_a_strategy_cut_short_by_the_deadline_makes_the_scan_partial() -> None:
    # Its timed_out report settles the scan before the owner's own deadline check.
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    # Stamped a millisecond early, as a deadline-bound timer can be.
    late = report("b", status=StrategyStatus.TIMED_OUT, found=0, at_ms=DEADLINE - 1)
    fold.apply(view, "2-0", late)
    fold.settle(view, DEADLINE - 1)
    assert view.snapshot.status == ScanStatus.PARTIAL
    assert view.strategy("b").error == fold.DEADLINE_REACHED


def test_a_strategy_past_its_own_timeout_leaves_the_scan_completed() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    fold.apply(view, "2-0", report("b", status=StrategyStatus.TIMED_OUT, found=0))
    fold.settle(view, NOW)
    assert view.snapshot.status == ScanStatus.COMPLETED


def test_cancel_ends_cancelled_and_later_reports_are_ignored() -> None:
    view = view_of("a", "b")
    fold.apply(view, "1-0", report("a"))
    fold.apply(view, "2-0", Cancel(by="alice", at_ms=NOW))
    fold.apply(view, "3-0", report("b"))
    assert view.snapshot.status == ScanStatus.CANCELLED
    assert view.strategy("b").status == StrategyStatus.CANCELLED
    assert len(view.results) == 1


def test_terminal_state_is_reached_once() -> None:
    view = view_of("a")
    fold.apply(view, "1-0", report("a"))
    fold.settle(view, NOW)
    finished = [event for event in view.events if event.event == "finished"]
    fold.settle(view, DEADLINE)
    fold.apply(view, "2-0", Cancel(by="alice", at_ms=NOW))
    assert view.snapshot.status == ScanStatus.COMPLETED
    assert [event for event in view.events if event.event == "finished"] == finished


def test_progress_never_reads_zero_total() -> None:
    view = view_of("a", "b", "c", "d")
    fold.apply(view, "1-0", report("a", found=3))
    progress = fold.progress_of(view.snapshot.strategies, len(view.results))
    assert progress == Progress(
        strategies_completed=1, total_strategies=4, percentage=25.0, opportunities_found_so_far=3
    )


def test_results_stand_in_strategy_order_whatever_order_reports_arrive() -> None:
    arrivals = (("c", "a", "b"), ("b", "c", "a"), ("a", "b", "c"))
    symbols = {"a": "BTC/USDT", "b": "ETH/USDT", "c": "SOL/USDT"}
    for order in arrivals:
        view = view_of("a", "b", "c")
        for n, name in enumerate(order):
            message = report(name, found=2)
            message.opportunities = [opportunity(symbols[name]) for _ in range(2)]
            fold.apply(view, f"{n + 1}-0", message)
        assert [o.symbol for o in view.results] == [symbols[n] for n in "aabbcc"], order
