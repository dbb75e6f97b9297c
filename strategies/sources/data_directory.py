"""A whole data directory checked: every series file, the as-of, what is stale.

What ``oppscan data check`` prints and what the files source loads are both this
one result, so the table shows exactly what the service serves.

**As-of.** A snapshot's as-of is the latest hourly candle over the usable symbols,
fixed when the directory is loaded: a symbol whose file ends early never moves it
back. **Stale.** A symbol whose last hourly candle is more than ``STALE_DATA_S``
older than the as-of is left out of every scan as ``stale_data`` (its last price
is not the market at the as-of). A 5-minute or perpetual series as old is dropped
the same way (strategies then say they have none); a funding series is stale only
when older than that plus one of its own funding intervals, as it is only written
once per interval.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from strategies.findings import Skip, SkipCode
from strategies.sources.file_formats import UnreadableFile, read_file
from strategies.sources.layout import (
    HOLDINGS_FILE,
    HOUR_MS,
    MARKETS_FILE,
    MS_PER_S,
    DataFile,
    Kind,
    data_files,
)
from strategies.sources.validation import (
    TIME,
    DataLimits,
    Problem,
    SeriesCheck,
    Status,
    iso_minute,
    problem,
)
from strategies.sources.validation import check_series as check_parsed


@dataclass(frozen=True, slots=True)
class SideFile:
    """markets.json or holdings.json: used as read, or ignored with its problem."""

    name: str
    content: dict[str, Any]
    problem: Problem | None = None


@dataclass(frozen=True, slots=True)
class DirectoryCheck:
    directory: Path
    series: tuple[SeriesCheck, ...]
    side_files: tuple[SideFile, ...]
    as_of_ms: int | None  # the latest hourly candle over usable symbols; None if none

    @property
    def unusable(self) -> list[Problem]:
        """Every problem that leaves a file unused (what makes `data check` exit 1)."""
        found = [p for check in self.series for p in check.problems]
        return found + [side.problem for side in self.side_files if side.problem]

    def symbols(self) -> tuple[str, ...]:
        """Every symbol with an hourly file, usable or not (a scan may name any)."""
        return tuple(dict.fromkeys(c.file.symbol for c in self.series if is_hourly_spot(c)))

    def excluded(self) -> dict[str, Skip]:
        """Symbols left out of every scan, with the reason a strategy reports."""
        out = {}
        for check in self.series:
            if not is_hourly_spot(check) or check.status not in (Status.UNUSABLE, Status.STALE):
                continue
            code = SkipCode.STALE_DATA if check.status is Status.STALE else SkipCode.UNUSABLE_DATA
            reasons = check.problems or (check.stale,)
            out[check.file.symbol] = Skip(
                symbol=check.file.symbol, code=code, message="; ".join(map(str, reasons))
            )
        return out

    def usable(self, kind: Kind, timeframe: str | None = None) -> dict[str, np.ndarray]:
        """The candles a scan may read, by symbol; of two funding files, the 8-hourly one."""
        found: dict[str, np.ndarray] = {}
        for check in self.series:
            wanted = check.file.kind is kind and timeframe in (None, check.file.timeframe)
            if wanted and check.status in USED and check.table is not None:
                found.setdefault(check.file.symbol, check.table)
        return found

    def side(self, name: str) -> dict[str, Any]:
        return next((s.content for s in self.side_files if s.name == name), {})


USED = (Status.OK, Status.REPAIRED)


def is_hourly_spot(check: SeriesCheck) -> bool:
    return check.file.kind is Kind.SPOT and check.file.timeframe == "1h"


def check_file(data_file: DataFile, limits: DataLimits, now_ms: float) -> SeriesCheck:
    """One file read and checked; a file that cannot be read is an unusable result.

    A missing optional package (pyarrow for feather) is raised: it is the
    installation's problem, not the file's, and every such file would fail alike."""
    try:
        parsed = read_file(data_file)
    except UnreadableFile as exc:
        unreadable = Problem("unreadable", str(exc))
        return SeriesCheck(file=data_file, rows=0, time_unit="-", problems=(unreadable,))
    return check_parsed(data_file, parsed, limits, now_ms)


def check_directory(directory: Path, limits: DataLimits, now_ms: float) -> DirectoryCheck:
    """Read and check every file of ``directory`` (it must exist)."""
    series = one_file_per_series([check_file(f, limits, now_ms) for f in data_files(directory)])
    hourly = [c.last_ms for c in series if is_hourly_spot(c) and c.last_ms is not None]
    as_of = int(max(hourly)) if hourly else None
    if as_of is not None:
        series = [mark_stale(check, as_of, limits) for check in series]
    sides = (read_side_file(directory, MARKETS_FILE), read_side_file(directory, HOLDINGS_FILE))
    return DirectoryCheck(directory, tuple(series), sides, as_of)


def one_file_per_series(series: list[SeriesCheck]) -> list[SeriesCheck]:
    """Two files holding one series (a json and a feather of BTC/USDT 1h): neither is
    trusted over the other, both are unusable until one is removed."""
    holders: dict[tuple[str, Kind, str], list[str]] = defaultdict(list)
    for check in series:
        holders[(check.file.symbol, check.file.kind, check.file.timeframe)].append(check.file.name)
    out = []
    for check in series:
        names = holders[(check.file.symbol, check.file.kind, check.file.timeframe)]
        if len(names) > 1:
            text = (
                f"{' and '.join(names)} both hold {check.file.symbol} "
                f"{check.file.timeframe} {check.file.kind}; remove one"
            )
            both = problem(check.file, "two files", text)
            check = replace(check, problems=(*check.problems, both), table=None)
        out.append(check)
    return out


def mark_stale(check: SeriesCheck, as_of_ms: int, limits: DataLimits) -> SeriesCheck:
    last = check.last_ms
    if last is None or check.status is Status.UNUSABLE:
        return check
    allowed_ms = limits.stale_data_s * MS_PER_S
    if check.file.kind is Kind.FUNDING and check.table is not None and len(check.table) > 1:
        allowed_ms += float(np.median(np.diff(check.table[:, TIME])))
    if last >= as_of_ms - allowed_ms:
        return check
    hours_behind = (as_of_ms - last) / HOUR_MS
    return replace(
        check,
        stale=problem(
            check.file,
            "stale",
            f"last row {iso_minute(last)} is {hours_behind:g} h before the as-of "
            f"{iso_minute(as_of_ms)} (STALE_DATA_S={limits.stale_data_s:g} s)",
        ),
    )


def read_side_file(directory: Path, name: str) -> SideFile:
    """An optional JSON object file: absent is empty; damaged is ignored with its problem."""
    path = directory / name
    if not path.is_file():
        return SideFile(name, {})
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return SideFile(
            name, {}, Problem("unreadable", f"{name}: not readable JSON ({exc}); ignored")
        )
    if not isinstance(content, dict):
        return side_problem(name, "expected a JSON object by symbol")
    if name == HOLDINGS_FILE:
        bad = [
            s for s, q in content.items() if isinstance(q, bool) or not isinstance(q, int | float)
        ]
        if bad:
            return side_problem(name, f"{bad[0]!r} holds {content[bad[0]]!r}, not a quantity")
    elif bad := [s for s, m in content.items() if not isinstance(m, dict)]:
        return side_problem(name, f"{bad[0]!r} is not a market object")
    return SideFile(name, content)


def side_problem(name: str, text: str) -> SideFile:
    return SideFile(name, {}, Problem("wrong shape", f"{name}: {text}; ignored"))
