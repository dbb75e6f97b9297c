"""The checker itself, on hand-made histories: a clean one passes, and each
violation of invariants 1-5 is counted, so a broken checker cannot pass."""

from __future__ import annotations

import pytest

from tests.chaos.checker import INVARIANT_OF, VIOLATIONS, check
from tests.chaos.history import OK, History, OwnerWrite, ReportAck

SCAN = "s1"
STRATEGIES = ("noop", "sleep_2s")


def snapshot(status: str, version: int, attempts: int = 1) -> dict:  # type: ignore[type-arg]
    done = len(STRATEGIES) if status == "completed" else 0
    return {
        "scan_id": SCAN,
        "status": status,
        "version": version,
        "progress": {"strategies_completed": done, "total_strategies": len(STRATEGIES)},
        "strategies": [
            {"name": name, "status": "completed" if done else "running", "attempt": attempts}
            for name in STRATEGIES
        ],
    }


def lifecycle(finished: int = 1, per_strategy: int = 1) -> list[dict]:  # type: ignore[type-arg]
    events = [{"event": "claimed"}]
    for name in STRATEGIES:
        events += [{"event": "strategy_finished", "strategy": name}] * per_strategy
    return events + [{"event": "finished"}] * finished


def write(
    epoch: int, version: int, sent: float, status: str = "running", outcome: str = "accepted"
) -> OwnerWrite:
    return OwnerWrite(SCAN, f"w:{epoch}", epoch, outcome, sent, sent + 0.001, status, version)


def clean_history() -> History:
    """A scan taken over once (epoch 1 -> 2), a fenced late write, a retried report."""
    history = History()
    op = history.invoke("c1", "create")
    history.complete("c1", "create", op, OK, SCAN)
    history.writes += [
        write(1, 2, 1.0),
        write(1, 3, 1.1),
        write(2, 4, 3.0),
        write(1, 5, 3.1, outcome="fenced"),  # the paused ex-owner, rejected: no violation
        write(2, 5, 3.2, status="completed"),
    ]
    history.acks += [
        ReportAck(SCAN, "noop", 1, "noop:1", "w:1"),
        ReportAck(SCAN, "noop", 1, "noop:1", "w:1"),  # a client retry of the same report
        ReportAck(SCAN, "sleep_2s", 1, "sleep_2s:1", "w:1"),
        ReportAck(SCAN, "sleep_2s", 2, "sleep_2s:2", "w:2"),  # the reclaimed attempt, dropped
    ]
    history.follows("r1", SCAN)
    history.follows("r2", SCAN)
    history.observe("probe", SCAN, 200, snapshot("running", 2))  # not a follower: may stop early
    for version, status in ((2, "running"), (3, "running"), (5, "completed"), (5, "completed")):
        history.observe("r1", SCAN, 200, snapshot(status, version))
    history.observe("r2", SCAN, 503, None)  # Redis away: no claim, no violation
    history.observe("r2", SCAN, 200, snapshot("completed", 5))
    history.add_outcome(snapshot("completed", 5), lifecycle())
    return history


def test_a_clean_history_has_no_violation() -> None:
    result = check(clean_history())
    assert result.total == 0, result.details
    result.assert_clean()


def only(history: History, violation: str) -> None:
    result = check(history)
    assert result.counts[violation] >= 1, f"{violation} not caught: {result.details}"
    others = {name: n for name, n in result.counts.items() if n and name != violation}
    assert not others, f"{violation} also reported as {others}: {result.details}"
    with pytest.raises(AssertionError, match=violation):
        result.assert_clean()


def test_an_older_epoch_accepted_after_a_newer_one_is_caught() -> None:
    history = clean_history()
    # Epoch 1's write accepted at a version after epoch 2 wrote, and sent after
    # epoch 2's write was answered: both the order and the overlap are wrong.
    history.writes.append(write(1, 6, 3.5, status="completed"))
    result = check(history)
    assert result.counts["stale_epoch_accepted"] == 1
    assert result.counts["owner_overlap"] == 1
    assert INVARIANT_OF["stale_epoch_accepted"] == INVARIANT_OF["owner_overlap"] == 1


def test_two_owners_writing_at_once_is_caught_as_overlap() -> None:
    history = clean_history()
    # Versions in epoch order, but epoch 1 still wrote after epoch 2's first write returned.
    history.writes[1] = write(1, 3, 3.05)
    only(history, "owner_overlap")


def test_a_version_written_twice_is_caught() -> None:
    history = clean_history()
    history.writes.append(write(2, 4, 3.01))
    only(history, "duplicate_version")


def test_an_acknowledged_report_never_applied_is_caught() -> None:
    history = clean_history()
    outcome = lifecycle()
    outcome.remove({"event": "strategy_finished", "strategy": "noop"})
    history.add_outcome(snapshot("completed", 5), outcome)
    only(history, "report_lost")


def test_a_report_applied_twice_is_caught() -> None:
    history = clean_history()
    history.add_outcome(snapshot("completed", 5), lifecycle(per_strategy=2))
    only(history, "report_applied_twice")


def test_a_reader_seeing_an_older_version_is_caught() -> None:
    history = clean_history()
    first, second = [seen for seen in history.observations if seen.reader == "r1"][:2]
    history.observations.insert(history.observations.index(second) + 1, first)  # v2 after v3
    only(history, "version_regressed")


def test_two_terminal_writes_are_caught() -> None:
    history = clean_history()
    history.add_outcome(snapshot("completed", 5), lifecycle(finished=2))
    only(history, "terminal_not_once")


def test_a_scan_that_never_ends_is_caught() -> None:
    history = clean_history()
    history.add_outcome(snapshot("running", 4), lifecycle(finished=0))
    history.observations = []
    history.acks = []
    only(history, "not_terminal")


def test_a_state_change_after_terminal_is_caught() -> None:
    history = clean_history()
    history.observe("r1", SCAN, 200, snapshot("cancelled", 5))
    result = check(history)
    assert result.counts["changed_after_terminal"] == 1


def test_a_reader_ending_on_another_state_is_caught() -> None:
    history = clean_history()
    history.follows("r3", SCAN)
    history.observe("r3", SCAN, 200, snapshot("running", 4))
    only(history, "reader_final_mismatch")


@pytest.mark.parametrize("status", [404, 410])
def test_a_handed_out_scan_reading_gone_is_caught(status: int) -> None:
    history = clean_history()
    history.observe("r1", SCAN, status, None)
    only(history, "not_found")


def test_every_violation_has_a_hand_made_history_above() -> None:
    tested = {
        "stale_epoch_accepted",
        "owner_overlap",
        "duplicate_version",
        "report_lost",
        "report_applied_twice",
        "version_regressed",
        "terminal_not_once",
        "not_terminal",
        "changed_after_terminal",
        "reader_final_mismatch",
        "not_found",
    }
    assert tested == set(VIOLATIONS)
    assert {INVARIANT_OF[name] for name in VIOLATIONS} == {1, 2, 3, 4, 5}
