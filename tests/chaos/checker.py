"""The history checker: invariants 1-5 of docs/architecture.md over a whole history.

``check`` returns how often each violation occurred (all must be zero) and a
line of detail per occurrence. Each violation belongs to one invariant:

1. ``stale_epoch_accepted``, ``duplicate_version``, ``owner_overlap``: accepted
   writes on a scan, in version order, have non-decreasing epochs (strictly
   increasing from one owner to the next), no version is written twice, and no
   write of an older epoch ran after a write of a newer one.
2. ``report_lost``, ``report_applied_twice``: every acknowledged report's
   strategy is applied exactly once (a repeat or a superseded attempt is
   dropped, which is right, as long as one report of the strategy applied).
3. ``version_regressed``: no reader sees a version lower than one it saw.
4. ``terminal_not_once``, ``not_terminal``, ``changed_after_terminal``,
   ``reader_final_mismatch``: each scan reaches exactly one terminal state,
   once, and every reader that follows the scan to its end ends on it.
5. ``not_found``: a handed-out scan never reads 404 (or 410) while retained.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tests.chaos.history import ACCEPTED, TERMINAL, History, Observation, OwnerWrite

INVARIANT_OF = {
    "stale_epoch_accepted": 1,
    "duplicate_version": 1,
    "owner_overlap": 1,
    "report_lost": 2,
    "report_applied_twice": 2,
    "version_regressed": 3,
    "terminal_not_once": 4,
    "not_terminal": 4,
    "changed_after_terminal": 4,
    "reader_final_mismatch": 4,
    "not_found": 5,
}
VIOLATIONS = tuple(INVARIANT_OF)
# A scan that ended this way may leave a strategy unapplied: it was cut short.
CUT_SHORT_SCAN = frozenset({"cancelled", "partial"})
CUT_SHORT_STRATEGY = frozenset({"cancelled", "timed_out"})
GONE_STATUSES = frozenset({404, 410})


@dataclass
class CheckResult:
    counts: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    def add(self, violation: str, detail: str) -> None:
        assert violation in INVARIANT_OF, violation
        self.counts[violation] += 1
        self.details.append(f"{violation}: {detail}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def table(self) -> str:
        rows = [
            f"  invariant {INVARIANT_OF[name]}  {name:<24} {self.counts[name]}"
            for name in VIOLATIONS
        ]
        return "\n".join(rows)

    def assert_clean(self) -> None:
        shown = "\n".join(self.details[:20])
        assert self.total == 0, f"{self.total} violations:\n{self.table()}\n{shown}"


def check(history: History) -> CheckResult:
    result = CheckResult()
    writes: dict[str, list[OwnerWrite]] = defaultdict(list)
    for write in history.writes:
        writes[write.scan_id].append(write)
    for scan_id, scan_writes in writes.items():
        check_owner_writes(result, scan_id, scan_writes)
    check_reports(result, history)
    readers: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for seen in history.observations:
        readers[(seen.reader, seen.scan_id)].append(seen)
    for (reader, scan_id), seen in readers.items():
        check_reader(result, history, reader, scan_id, seen)
    check_terminal(result, history, writes)
    return result


# ---- invariant 1 ----


def check_owner_writes(result: CheckResult, scan_id: str, writes: list[OwnerWrite]) -> None:
    accepted = sorted(
        (w for w in writes if w.outcome == ACCEPTED and w.version is not None),
        key=lambda w: w.version or 0,
    )
    for before, after in itertools.pairwise(accepted):
        if after.version == before.version:
            result.add("duplicate_version", f"{scan_id} v{after.version} written twice")
        elif after.epoch < before.epoch:
            result.add(
                "stale_epoch_accepted",
                f"{scan_id} v{after.version} at epoch {after.epoch} "
                f"after v{before.version} at epoch {before.epoch}",
            )
    # The script ran somewhere between send and reply: an older epoch's write
    # sent after a newer epoch's write was answered certainly ran after it.
    latest_send: dict[int, float] = {}
    first_reply: dict[int, float] = {}
    for write in accepted:
        latest_send[write.epoch] = max(
            latest_send.get(write.epoch, write.sent_mono), write.sent_mono
        )
        first_reply[write.epoch] = min(
            first_reply.get(write.epoch, write.reply_mono), write.reply_mono
        )
    for old in latest_send:
        for new in first_reply:
            if old < new and latest_send[old] > first_reply[new]:
                result.add(
                    "owner_overlap",
                    f"{scan_id} epoch {old} wrote after epoch {new} had written",
                )


# ---- invariant 2 ----


def check_reports(result: CheckResult, history: History) -> None:
    for outcome in history.outcomes.values():
        for strategy, count in outcome.finished_events.items():
            if count > 1:
                result.add(
                    "report_applied_twice", f"{outcome.scan_id} {strategy} applied {count} times"
                )
    seen: set[tuple[str, str]] = set()
    for ack in history.acks:
        key = (ack.scan_id, ack.strategy)
        if key in seen:
            continue
        seen.add(key)
        outcome = history.outcomes.get(ack.scan_id)
        if outcome is None:
            result.add("report_lost", f"{ack.scan_id} {ack.report_id}: scan never read at the end")
            continue
        if outcome.finished_events.get(ack.strategy, 0) >= 1:
            continue  # applied; more than once is report_applied_twice, above
        status, _attempt = outcome.strategies.get(ack.strategy, ("missing", 0))
        if outcome.status in CUT_SHORT_SCAN and status in CUT_SHORT_STRATEGY:
            continue
        result.add(
            "report_lost",
            f"{ack.scan_id} {ack.report_id} acknowledged, never applied (strategy {status})",
        )


# ---- invariants 3, 4 (readers) and 5 ----


def check_reader(
    result: CheckResult,
    history: History,
    reader: str,
    scan_id: str,
    seen: list[Observation],
) -> None:
    highest = 0
    terminal: Observation | None = None
    for read in seen:
        if read.http_status in GONE_STATUSES:
            result.add("not_found", f"{reader} read {read.http_status} for {scan_id}")
            continue
        if read.version is None:
            continue  # a 5xx while Redis was away: no claim made
        if read.version < highest:
            result.add(
                "version_regressed", f"{reader} saw {scan_id} v{read.version} after v{highest}"
            )
        highest = max(highest, read.version)
        if terminal is not None and (read.status, read.version) != (
            terminal.status,
            terminal.version,
        ):
            result.add(
                "changed_after_terminal",
                f"{reader} saw {scan_id} {read.status} v{read.version} "
                f"after {terminal.status} v{terminal.version}",
            )
        if terminal is None and read.status in TERMINAL:
            terminal = read
    outcome = history.outcomes.get(scan_id)
    last = next((read for read in reversed(seen) if read.version is not None), None)
    if (
        (reader, scan_id) in history.followers
        and outcome is not None
        and outcome.status in TERMINAL
        and (last is None or (last.status, last.version) != (outcome.status, outcome.version))
    ):
        ended = "nothing" if last is None else f"{last.status} v{last.version}"
        result.add(
            "reader_final_mismatch",
            f"{reader} ended on {scan_id} {ended}, "
            f"the scan ended {outcome.status} v{outcome.version}",
        )


def check_terminal(
    result: CheckResult, history: History, writes: dict[str, list[OwnerWrite]]
) -> None:
    for scan_id in history.handed_out() | set(history.outcomes):
        outcome = history.outcomes.get(scan_id)
        if outcome is None or outcome.status not in TERMINAL:
            status = outcome.status if outcome else "never read"
            result.add("not_terminal", f"{scan_id} ended the run {status}")
            continue
        terminal_writes = [
            w for w in writes.get(scan_id, []) if w.outcome == ACCEPTED and w.status in TERMINAL
        ]
        # The lifecycle's `finished` event is written by the terminal publish
        # itself, so it counts terminal writes even when a killed owner never
        # logged its last one.
        if outcome.terminal_events != 1 or len(terminal_writes) > 1:
            result.add(
                "terminal_not_once",
                f"{scan_id}: {outcome.terminal_events} finished events, "
                f"{len(terminal_writes)} terminal writes logged",
            )
