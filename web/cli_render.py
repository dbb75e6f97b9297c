"""What the command line shows: a live progress bar per strategy and the admin
lease table (rich), and what each strategy looked at. The opportunities table is
web.cli_table's."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from coordinator.process.clock import MS_PER_S
from coordinator.store.records import TERMINAL_STRATEGY_STATUSES
from strategies.findings import top_reason

Json = dict[str, Any]
STATUS_STYLES = {
    "pending": "dim",
    "queued": "dim",
    "running": "cyan",
    "completed": "green",
    "partial": "yellow",
    "timed_out": "yellow",
    "failed": "red",
    "cancelled": "magenta",
}
# One space between columns (not rich's two), so the table fits 80 columns.
CELL_PADDING = (0, 1, 0, 0)
# Names fold onto more lines, but never below this width.
NAME_MIN_WIDTH = 9


def styled(status: str) -> str:
    style = STATUS_STYLES.get(status, "")
    return f"[{style}]{status}[/]" if style else status


class ScanProgress:
    """One bar for the scan and one per strategy, moved by each snapshot.

    A running strategy pulses (its own progress is unknown); a finished one is full."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[state]}"),
            console=console,
        )
        self.scan_task: TaskID | None = None
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ScanProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def update(self, snapshot: Json) -> None:
        progress = snapshot["progress"]
        state = (
            f"{styled(snapshot['status'])} {progress['strategies_completed']}"
            f"/{progress['total_strategies']}, {progress['opportunities_found_so_far']} found"
        )
        if self.scan_task is None:
            self.scan_task = self.progress.add_task(
                f"scan {escape(snapshot['scan_id'])}",
                total=progress["total_strategies"],
                state=state,
            )
        self.progress.update(
            self.scan_task, completed=progress["strategies_completed"], state=state
        )
        for strategy in snapshot["strategies"]:
            self.update_strategy(strategy)

    def update_strategy(self, strategy: Json) -> None:
        name, status = strategy["name"], strategy["status"]
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(f"  {escape(name)}", total=1, state="")
        finished = status in TERMINAL_STRATEGY_STATUSES
        state = styled(status)
        if finished and strategy.get("duration_ms") is not None:
            state += f" {strategy['duration_ms'] / MS_PER_S:.2f} s, {findings_summary(strategy)}"
        self.progress.update(
            self.tasks[name],
            total=None if status == "running" else 1,
            completed=1 if finished else 0,
            state=state,
        )


def findings_summary(strategy: Json) -> str:
    """'1 fired / 10 evaluated / 9 skipped (no_signal 8)': what a strategy said."""
    counts: dict[str, int] = strategy.get("skipped_counts") or {}
    text = (
        f"{strategy['opportunities']} fired / {strategy.get('evaluated', 0)} evaluated / "
        f"{sum(counts.values())} skipped"
    )
    reason = top_reason(counts)
    return f"{text} ({reason} {counts[reason]})" if reason else text


def findings_table(snapshot: Json) -> Table:
    """Per strategy: fired / evaluated / skipped, the top reason and one example of it."""
    table = Table(
        title="what each strategy looked at",
        box=box.SIMPLE_HEAD,
        padding=CELL_PADDING,
        show_edge=False,
    )
    table.add_column("strategy", overflow="fold", min_width=NAME_MIN_WIDTH)
    for header in ("fired", "evaluated", "skipped"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("top reason", overflow="fold")
    for strategy in snapshot["strategies"]:
        counts: dict[str, int] = strategy.get("skipped_counts") or {}
        reason = top_reason(counts)
        example = next(
            (skip for skip in strategy.get("skipped") or [] if skip["code"] == reason), None
        )
        table.add_row(
            escape(strategy["name"]),
            str(strategy["opportunities"]),
            str(strategy.get("evaluated", 0)),
            str(sum(counts.values())),
            escape(
                f"{reason} ({counts[reason]})"
                + (f": {example['symbol']} {example['message']}" if example else "")
            )
            if reason
            else "",
        )
    return table


def strategy_problems(snapshot: Json) -> list[str]:
    """One line per strategy that did not complete, with its error."""
    return [
        f"{escape(s['name'])}: {styled(s['status'])}"
        + (f" ({escape(s['error'])})" if s.get("error") else "")
        for s in snapshot["strategies"]
        if s["status"] != "completed"
    ]


def leases_table(page: Json) -> Table:
    """Live scans; the scan id is never shortened (it is what an operator copies)."""
    leases = page["leases"]
    table = Table(
        title=f"{page['count']} of {page['live_scans']} live scans",
        caption=f"more after --cursor {page['next_cursor']}" if page.get("next_cursor") else None,
        box=box.SIMPLE_HEAD,
        padding=CELL_PADDING,
        show_edge=False,
    )
    id_width = max((len(lease["scan_id"]) for lease in leases), default=0)
    table.add_column("scan", no_wrap=True, min_width=id_width)
    table.add_column("user", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("worker", overflow="fold")
    for header in ("epoch", "lease", "done", "age"):
        table.add_column(header, justify="right", no_wrap=True)
    for lease in leases:
        progress = lease["progress"]
        left_ms = lease.get("lease_expires_in_ms")
        table.add_row(
            escape(lease["scan_id"]),
            escape(lease["user_id"]),
            styled(lease["status"]),
            escape(lease.get("worker_id") or "-"),
            str(lease["epoch"]) if lease.get("epoch") is not None else "-",
            f"{left_ms / MS_PER_S:.1f}s" if left_ms is not None else "-",
            f"{progress['strategies_completed']}/{progress['total_strategies']}",
            f"{lease['age_s']:.0f}s",
        )
    return table
