"""The checks every candle file passes before any strategy sees it.

One module, used by the files source when it loads and by ``oppscan data check``,
so the table a user reads is exactly what the service does with the file.

A problem is either **repaired** (and the table says so) or makes the file
**unusable** (the source leaves its symbol out, with the reason):

- repaired: rows out of time order (sorted), exact duplicate rows (one kept).
  Both lose nothing: the same candles come out whichever order they were written in.
- unusable: anything where a repair would have to guess a value: a row whose time
  is missing, in the future or off the file's timeframe grid; times whose unit
  cannot be told (see below); two different rows with one time; NaN or a missing
  value; a price of zero or less; a high below max(open, close) or a low above
  min(open, close); negative volume; a gap longer than ``DATA_MAX_GAP_S``.

Times written as plain numbers get their unit from their magnitude, never by
assumption: a date between 2000 and 2100 is a 10-digit number in seconds, a
13-digit one in milliseconds and a 16-digit one in microseconds, ranges that do
not overlap. A file whose every time lies in one range is read in that unit (the
table says which and why); a time in none of them, or a file mixing two, is
unusable. Typed times (ISO dates, arrow timestamps) carry their unit.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from strategies.sources.file_formats import ParsedFile
from strategies.sources.layout import HOUR_MS, MS_PER_S, DataFile, Kind

# Plausible candle dates: exchanges began well after 2000, and a date past 2100
# is a unit error, not a forecast. In ms: [946684800000, 4102444800000).
PLAUSIBLE_FROM_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
PLAUSIBLE_UNTIL_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
# Units a number may be in, with how many of them make a millisecond, and the
# digits a 2000-2100 date has in that unit.
UNITS = (("s", 1 / MS_PER_S, 10), ("ms", 1.0, 13), ("µs", 1e3, 16))
# A problem found at many rows names this many of them, then counts the rest.
ROWS_NAMED = 3
TIME, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: a few words for the check table, and the whole message."""

    label: str  # "high < body"
    message: str  # names the file and the row(s)

    def __str__(self) -> str:
        return self.message


def problem(file: DataFile, label: str, text: str) -> Problem:
    return Problem(label, f"{file.name}: {text}")


@dataclass(frozen=True, slots=True)
class DataLimits:
    """The settings the checks apply (DATA_MAX_GAP_S, STALE_DATA_S)."""

    max_gap_s: float
    stale_data_s: float


class Status(enum.StrEnum):
    OK = "ok"
    REPAIRED = "repaired"
    UNUSABLE = "unusable"
    STALE = "stale"  # usable, but left out of scans: it ends too long before the as-of


@dataclass(frozen=True, slots=True)
class SeriesCheck:
    """What the checks found in one file, and its candles when usable."""

    file: DataFile
    rows: int
    # The unit the times were read in, and why: "ms: 13 digits", "ms: ISO dates", "ms: typed".
    time_unit: str
    problems: tuple[Problem, ...] = ()  # each makes the file unusable
    repairs: tuple[Problem, ...] = ()  # what was fixed, and how
    note: str = ""  # how the columns were read, when worth saying
    # Time-sorted (n, 6) rows [ms, o, h, l, c, v], read-only; None when unusable.
    table: np.ndarray | None = field(default=None, repr=False)
    gaps: int = 0  # intervals longer than one bar (candle files only)
    missing_bars: int = 0
    # Why a usable series is left out of scans: it ends too long before the as-of.
    stale: Problem | None = None

    @property
    def status(self) -> Status:
        if self.problems or self.table is None:
            return Status.UNUSABLE
        if self.stale:
            return Status.STALE
        return Status.REPAIRED if self.repairs else Status.OK

    @property
    def first_ms(self) -> float | None:
        return float(self.table[0, TIME]) if self.table is not None and len(self.table) else None

    @property
    def last_ms(self) -> float | None:
        return float(self.table[-1, TIME]) if self.table is not None and len(self.table) else None


def iso_minute(ms: float) -> str:
    return datetime.fromtimestamp(ms / MS_PER_S, tz=UTC).strftime("%Y-%m-%d %H:%M")


def rows_text(parsed: ParsedFile, indexes: Sequence[int] | np.ndarray) -> str:
    """'row 4', or 'rows 4, 9, 12 and 40 more' (1-based file rows, or CSV lines)."""
    named = [parsed.where(int(i)) for i in sorted(indexes)[:ROWS_NAMED]]
    if len(named) == 1:
        return named[0]
    words = [named[0].split()[0] + "s", ", ".join(n.split()[1] for n in named)]
    more = len(indexes) - len(named)
    return " ".join(words) + (f" and {more} more" if more else "")


def decide_unit(
    file: DataFile, parsed: ParsedFile
) -> tuple[np.ndarray | None, str, Problem | None]:
    """(times in ms, the unit and why, a problem): by type, else by magnitude."""
    times = parsed.times
    if parsed.times_in_ms is not None:
        return times, f"ms: {parsed.times_in_ms}", None
    inside = {
        name: (times >= PLAUSIBLE_FROM_MS * per_ms) & (times < PLAUSIBLE_UNTIL_MS * per_ms)
        for name, per_ms, _ in UNITS
    }
    for name, per_ms, digits in UNITS:
        if inside[name].all():
            return times / per_ms, f"{name}: {digits} digits", None
    nowhere = np.flatnonzero(~np.any(list(inside.values()), axis=0))
    if len(nowhere):
        return (
            None,
            "unknown",
            problem(
                file,
                "time unit?",
                f"{rows_text(parsed, nowhere)}: time {times[nowhere[0]]:.0f} is no date in "
                "2000–2100 in seconds, milliseconds or microseconds",
            ),
        )
    found = [
        f"{name} ({parsed.where(int(np.argmax(rows)))})"
        for name, rows in inside.items()
        if rows.any()
    ]
    text = f"times mix {' and '.join(found)}; the unit cannot be told"
    return None, "mixed", problem(file, "mixed units", text)


def check_series(
    file: DataFile, parsed: ParsedFile, limits: DataLimits, now_ms: float
) -> SeriesCheck:
    """Every check on one parsed file; the candles come back only when usable."""
    rows = len(parsed.times)
    base = SeriesCheck(file=file, rows=rows, time_unit="-", note=parsed.note)
    if not rows:
        return replace(base, problems=(problem(file, "no rows", "no rows"),))
    missing = np.flatnonzero(np.isnan(parsed.times))
    if len(missing):
        missing_time = problem(file, "no time", f"{rows_text(parsed, missing)}: no time")
        return replace(base, problems=(missing_time,))
    times, unit, unit_problem = decide_unit(file, parsed)
    base = replace(base, time_unit=unit)
    if times is None or unit_problem is not None:
        return replace(base, problems=(unit_problem,) if unit_problem else ())
    problems = time_problems(file, parsed, times, now_ms)
    table, order, repairs, conflicts = in_time_order(file, parsed, times)
    problems += conflicts
    problems += value_problems(file, parsed, table, order)
    gaps, missing_bars, long_gaps = gap_count(file, parsed, table, order, limits)
    problems += long_gaps
    table.setflags(write=False)
    return replace(
        base,
        problems=tuple(problems),
        repairs=tuple(repairs),
        table=None if problems else table,
        gaps=gaps,
        missing_bars=missing_bars,
    )


def in_time_order(
    file: DataFile, parsed: ParsedFile, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[Problem], list[Problem]]:
    """(rows [ms, o, h, l, c, v] sorted and de-duplicated, each one's index in the file,
    repairs, problems): sorting and dropping exact repeats are repairs; two different
    rows at one time are a problem."""
    repairs, problems = [], []
    backwards = np.flatnonzero(np.diff(times) < 0)
    if len(backwards):
        where = parsed.where(int(backwards[0]) + 1)
        text = f"rows out of time order (first at {where}): sorted"
        repairs.append(problem(file, "sorted", text))
    order = np.argsort(times, kind="stable")
    table = np.column_stack([times, parsed.values])[order]
    keep, repeated, conflicting = duplicates(table)
    if len(repeated):
        where = rows_text(parsed, order[repeated])
        text = f"{len(repeated)} exact duplicate rows ({where}): dropped"
        repairs.append(problem(file, "duplicates dropped", text))
    if len(conflicting):
        where = rows_text(parsed, order[conflicting])
        text = f"{where}: the same time as an earlier row with different values"
        problems.append(problem(file, "duplicate times", text))
    return table[keep], order[keep], repairs, problems


def time_problems(
    file: DataFile, parsed: ParsedFile, times: np.ndarray, now_ms: float
) -> list[Problem]:
    """Candles from the future, and candle times off the file's timeframe grid."""
    problems: list[Problem] = []
    # A candle opened in the current bar is complete enough to exist; later is an error.
    future = np.flatnonzero(times > now_ms + file.bar_ms)
    if len(future):
        text = (
            f"{rows_text(parsed, future)}: {iso_minute(times[future[0]])} "
            f"is in the future (now {iso_minute(now_ms)})"
        )
        problems.append(problem(file, "future", text))
    # Exchanges open candles on UTC multiples of their timeframe. Funding times are
    # set by the exchange (and a few ms late in ccxt's records), so they are not checked.
    if file.kind is not Kind.FUNDING:
        off_grid = np.flatnonzero(times % file.bar_ms != 0)
        if len(off_grid):
            text = (
                f"{rows_text(parsed, off_grid)}: {iso_minute(times[off_grid[0]])} "
                f"is not on the {file.timeframe} grid (not {file.timeframe} candles?)"
            )
            problems.append(problem(file, "off grid", text))
    return problems


def duplicates(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of time-sorted rows: (rows to keep, exact repeats, same time but other values)."""
    same_time = np.flatnonzero(table[1:, TIME] == table[:-1, TIME]) + 1
    # NaN-aware equality: a repeated row with NaN is still the same row (and unusable).
    equal = np.all(
        (table[same_time] == table[same_time - 1])
        | (np.isnan(table[same_time]) & np.isnan(table[same_time - 1])),
        axis=1,
    )
    keep = np.ones(len(table), dtype=bool)
    keep[same_time] = False
    return keep, same_time[equal], same_time[~equal]


def value_problems(
    file: DataFile, parsed: ParsedFile, table: np.ndarray, order: np.ndarray
) -> list[Problem]:
    """NaN, non-positive prices, high/low outside the body, negative volume."""
    if file.kind is Kind.FUNDING:
        # freqtrade keeps a funding rate in "open" and zeros elsewhere; rates may be negative.
        checks = [(np.isnan(table[:, OPEN]), "NaN", "no funding rate (NaN or empty)")]
    else:
        prices = table[:, OPEN : CLOSE + 1]
        with np.errstate(invalid="ignore"):
            checks = [
                (np.isnan(table[:, OPEN:]).any(axis=1), "NaN", "a value is NaN or empty"),
                (np.any(prices <= 0, axis=1), "price <= 0", "a price is zero or negative"),
                (
                    table[:, HIGH] < np.maximum(table[:, OPEN], table[:, CLOSE]),
                    "high < body",
                    "high below max(open, close)",
                ),
                (
                    table[:, LOW] > np.minimum(table[:, OPEN], table[:, CLOSE]),
                    "low > body",
                    "low above min(open, close)",
                ),
                (table[:, VOLUME] < 0, "volume < 0", "negative volume"),
            ]
    return [
        problem(file, label, f"{rows_text(parsed, order[mask])}: {what}")
        for mask, label, what in checks
        if mask.any()
    ]


def gap_count(
    file: DataFile, parsed: ParsedFile, table: np.ndarray, order: np.ndarray, limits: DataLimits
) -> tuple[int, int, list[Problem]]:
    """(gaps, missing bars, problems): a gap is a step longer than one bar; one longer
    than DATA_MAX_GAP_S makes the file unusable. Funding steps are the exchange's, not
    the file's timeframe, so only the long ones count."""
    steps = np.diff(table[:, TIME])
    long_gaps = np.flatnonzero(steps > limits.max_gap_s * MS_PER_S)
    problems: list[Problem] = []
    if len(long_gaps):
        first = int(long_gaps[0])
        text = (
            f"{len(long_gaps)} gaps longer than DATA_MAX_GAP_S={limits.max_gap_s:g} s, the first "
            f"{steps[first] / HOUR_MS:g} h after {parsed.where(int(order[first]))} "
            f"({iso_minute(table[first, TIME])})"
        )
        problems.append(problem(file, "long gap", text))
    if file.kind is Kind.FUNDING:
        return 0, 0, problems
    missing = steps[steps > file.bar_ms] // file.bar_ms - 1
    return len(missing), int(missing.sum()), problems
