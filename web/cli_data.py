"""`oppscan data check DIR`: what the files source would make of a data directory.

One table row per file (symbol, timeframe, rows, first and last candle, gaps, the
unit its times were read in and why, status, problems), from the same checks the
service runs when it loads the directory (strategies.sources.validation). Exit
status: 0 every file usable (some perhaps repaired or stale), 1 a file is
unusable or the directory holds no hourly candles, 2 bad usage.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.errors import SettingsError
from config.settings import load_settings
from strategies.errors import MissingDependency
from strategies.sources.data_directory import DirectoryCheck, check_directory
from strategies.sources.layout import MS_PER_S, Kind
from strategies.sources.validation import DataLimits, Problem, SeriesCheck, Status, iso_minute

EXIT_USABLE, EXIT_UNUSABLE = 0, 1
STATUS_STYLES = {
    Status.OK: "green",
    Status.REPAIRED: "yellow",
    Status.STALE: "yellow",
    Status.UNUSABLE: "red",
}
KIND_LABELS = {Kind.SPOT: "", Kind.FUTURES: " perp", Kind.FUNDING: " funding"}
# Columns whose words wrap one to a line ("8h / funding", "ms: 13 / digits") are this
# wide (rich only narrows the widest columns), so the table fits 80 columns.
WORD_WIDTH = len("funding")
TIME_LEGEND = (
    "time: the unit a file's times were read in, told by their digits (a 2000–2100 date"
    " has 10 in s, 13 in ms, 16 in µs) or by their type (ISO dates, typed columns)"
)


@click.group()
def data() -> None:
    """Market-data files: check a directory before the files source serves it."""


@data.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON only.")
def check(directory: Path, as_json: bool) -> None:
    """Check every file of DIRECTORY (freqtrade's layout) as the files source does
    (limits: DATA_MAX_GAP_S, STALE_DATA_S); exit 1 if a file is unusable."""
    try:
        # Only the data limits are read: no token is signed or checked here.
        settings = load_settings(require_secret=False)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    limits = DataLimits(max_gap_s=settings.data_max_gap_s, stale_data_s=settings.stale_data_s)
    try:
        result = check_directory(directory, limits, time.time() * MS_PER_S)
    except MissingDependency as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(as_document(result)))
    else:
        console = Console()
        console.print(check_table(result))
        for line in messages(result):
            console.print(escape(line), soft_wrap=True)
        console.print(TIME_LEGEND, style="dim")
    if not result.symbols():
        click.echo(f"no hourly candle files (<PAIR>-1h.<ext>) in {directory}", err=True)
        sys.exit(EXIT_UNUSABLE)
    sys.exit(EXIT_UNUSABLE if result.unusable else EXIT_USABLE)


def candle_time(ms: float | None) -> str:
    return iso_minute(ms) if ms is not None else "-"


def gaps_text(series: SeriesCheck) -> str:
    # Funding steps are the exchange's, not the file's timeframe: no gaps to count.
    if series.file.kind is Kind.FUNDING or not series.rows:
        return "-"
    return str(series.gaps)


def findings(series: SeriesCheck) -> list[Problem]:
    """What the checks say of one file: problems, then repairs, then staleness."""
    return [*series.problems, *series.repairs, *([series.stale] if series.stale else [])]


def check_table(result: DirectoryCheck) -> Table:
    """One row per file; the problems column holds short labels, the messages follow."""
    counts = [s.status for s in result.series]
    table = Table(
        title=f"{escape(str(result.directory))}\nas-of {candle_time(result.as_of_ms)}",
        caption=", ".join(f"{counts.count(s)} {s}" for s in Status if s in counts),
        box=box.SIMPLE_HEAD,
        padding=0,  # the box's column divider is the one space between columns
        show_edge=False,
    )
    table.add_column("symbol", overflow="fold")
    table.add_column("tf", max_width=WORD_WIDTH)
    table.add_column("rows", justify="right")
    for header in ("first", "last"):
        table.add_column(header, justify="right")
    table.add_column("gaps", justify="right")
    table.add_column("time", max_width=WORD_WIDTH)
    table.add_column("status", no_wrap=True)
    table.add_column("problems")
    for series in result.series:
        table.add_row(
            escape(series.file.symbol),
            series.file.timeframe + KIND_LABELS[series.file.kind],
            str(series.rows),
            # Date over time: the table fits 80 columns.
            candle_time(series.first_ms).replace(" ", "\n"),
            candle_time(series.last_ms).replace(" ", "\n"),
            gaps_text(series),
            escape(series.time_unit),
            styled(series.status),
            escape(", ".join(dict.fromkeys(p.label for p in findings(series)))),
        )
    return table


def styled(status: Status) -> str:
    return f"[{STATUS_STYLES[status]}]{status}[/]"


def messages(result: DirectoryCheck) -> list[str]:
    """Every finding in full (each names its file and row), then the column notes."""
    lines = []
    for series in result.series:
        lines += [f"{Status.UNUSABLE}: {p}" for p in series.problems]
        lines += [f"{Status.REPAIRED}: {p}" for p in series.repairs]
        lines += [f"{Status.STALE}: {series.stale}"] if series.stale else []
    lines += [f"{Status.UNUSABLE}: {side.problem}" for side in result.side_files if side.problem]
    lines += [f"note: {s.file.name}: {s.note}" for s in result.series if s.note]
    return lines


def as_document(result: DirectoryCheck) -> dict[str, Any]:
    """The check as JSON: one object per file, and the problem of a side file."""
    return {
        "directory": str(result.directory),
        "as_of": candle_time(result.as_of_ms),
        "unusable": bool(result.unusable),
        "files": [
            {
                "file": s.file.name,
                "symbol": s.file.symbol,
                "kind": str(s.file.kind),
                "timeframe": s.file.timeframe,
                "rows": s.rows,
                "first": candle_time(s.first_ms),
                "last": candle_time(s.last_ms),
                "gaps": s.gaps,
                "missing_bars": s.missing_bars,
                "time_unit": s.time_unit,
                "status": str(s.status),
                "problems": [str(p) for p in s.problems],
                "repairs": [str(p) for p in s.repairs],
                "stale": str(s.stale) if s.stale else None,
                "note": s.note or None,
            }
            for s in result.series
        ]
        + [
            {"file": side.name, "status": str(Status.UNUSABLE), "problems": [str(side.problem)]}
            for side in result.side_files
            if side.problem
        ],
    }
