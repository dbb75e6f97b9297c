"""Reading one candle file, whatever its format, into columns: nothing checked yet.

A file that cannot be read as candles at all (truncated JSON, a CSV without a
``close`` column, a cell that is not a number) raises :class:`UnreadableFile`
naming the file and the row; everything readable comes back as
:class:`ParsedFile`, where a missing value is NaN and times are as written, for
``validation`` to judge.

- JSON (``.json``, ``.json.gz``): freqtrade's ``[[time, open, high, low, close, volume], ...]``.
- CSV: columns found by their header's names in any order (``date``/``time``/
  ``timestamp``, ``open``, ``high``, ``low``, ``close``, ``volume``, any case); a
  file without a header is read in ccxt's order, and the check table says so.
  Times are numbers or ISO-8601 dates (UTC when unzoned).
- feather, parquet (pyarrow): columns by name; a typed timestamp column carries its unit.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

from strategies.errors import MissingDependency, StrategyError
from strategies.sources.layout import MS_PER_S, DataFile

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
TIME_NAMES = ("date", "time", "timestamp", "datetime")
ROW_WIDTH = 1 + len(PRICE_COLUMNS)
# freqtrade's json rows, decoded strictly in C: six numbers or nulls, no strings or booleans.
Cell = float | None
JSON_ROWS = msgspec.json.Decoder(list[tuple[Cell, Cell, Cell, Cell, Cell, Cell]])
JSON_BYTE_AT = re.compile(r"\(byte (\d+)\)")
JSON_ROW_AT = re.compile(r"at `\$\[(\d+)\]")
# How a parsed file's times were given, when no magnitude needs judging.
ISO_DATES = "ISO dates"
# A typed arrow timestamp's ticks per millisecond, by its unit.
UNITS_PER_MS = {"s": 1 / MS_PER_S, "ms": 1.0, "us": 1e3, "ns": 1e6}
NO_HEADER_NOTE = "no header: columns read as time, open, high, low, close, volume"


class UnreadableFile(StrategyError):
    """The file is not candles in any format we read; ``reason`` names the row where it can."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A file's rows as written: ``times`` raw numbers (or ms when ``times_in_ms``)."""

    times: np.ndarray  # float64, NaN where missing
    values: np.ndarray  # float64 (n, 5): open, high, low, close, volume; NaN where missing
    # Times already in milliseconds, decided by their type, and how ("ISO-8601 dates");
    # None when they are plain numbers whose unit validation decides by magnitude.
    times_in_ms: str | None = None
    # Said in the check table: how the columns were found, when it is worth knowing.
    note: str = ""
    # The file's line of each row (CSV), so messages point where an editor does.
    lines: np.ndarray | None = None

    def where(self, index: int) -> str:
        """'row 5' (1-based) or, in a CSV, 'line 7'."""
        if self.lines is not None:
            return f"line {int(self.lines[index])}"
        return f"row {index + 1}"


def read_file(data_file: DataFile) -> ParsedFile:
    extension = data_file.extension
    try:
        if extension in (".feather", ".parquet"):
            return read_arrow(data_file)
        if extension == ".csv":
            return read_csv(data_file)
        return read_json(data_file)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(data_file.name, f"not text ({exc.reason})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFile(
            data_file.name, f"cannot be read ({exc}); truncated or damaged?"
        ) from None


def read_json(data_file: DataFile) -> ParsedFile:
    opener = gzip.open if data_file.extension == ".json.gz" else open
    with opener(data_file.path, "rb") as handle:
        data = handle.read()
    try:
        rows = JSON_ROWS.decode(data)
    except msgspec.ValidationError as exc:
        raise UnreadableFile(data_file.name, json_row_problem(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise UnreadableFile(data_file.name, json_syntax_problem(data, str(exc))) from None
    # A null (ccxt's empty value) becomes NaN, for the checks to find.
    table = np.array(rows, dtype=np.float64).reshape(-1, ROW_WIDTH)
    return ParsedFile(times=table[:, 0], values=table[:, 1:])


def json_syntax_problem(data: bytes, error: str) -> str:
    """Where the JSON breaks, as a row: the rows closed before the bad byte (the end,
    for a truncated file) are read, the next one is not."""
    at = JSON_BYTE_AT.search(error)
    complete = data[: int(at[1]) if at else len(data)].count(b"]")
    return f"not valid JSON at row {complete + 1} ({error}); truncated or damaged?"


def json_row_problem(error: str) -> str:
    """msgspec's "Expected `array` of length 6 - at `$[6]`" as "row 7: ..."."""
    found = JSON_ROW_AT.search(error)
    if found is None:
        return f"expected a list of [time, open, high, low, close, volume] rows ({error})"
    row = int(found[1]) + 1
    what = error[: found.start()].rstrip(" -")
    return f"row {row}: expected [time, open, high, low, close, volume] of numbers ({what})"


def iso_ms(text: str) -> float:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp() * MS_PER_S


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def column_order(header: list[str], name: str) -> list[int]:
    """Indexes of time, open, ... volume in a CSV header, found by name in any order."""
    names = [cell.strip().lower() for cell in header]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UnreadableFile(name, f"line 1: the header repeats {', '.join(duplicated)}")
    times = [i for i, n in enumerate(names) if n in TIME_NAMES]
    if len(times) != 1:
        raise UnreadableFile(name, f"line 1: needs one time column named {' or '.join(TIME_NAMES)}")
    missing = [column for column in PRICE_COLUMNS if column not in names]
    if missing:
        raise UnreadableFile(name, f"line 1: no {', '.join(missing)} column in the header")
    return times + [names.index(column) for column in PRICE_COLUMNS]


def read_csv(data_file: DataFile) -> ParsedFile:
    name = data_file.name
    with data_file.path.open(newline="") as handle:
        numbered = [
            (line, row)
            for line, row in enumerate(csv.reader(handle), start=1)
            if row and not row[0].lstrip().startswith("#")
        ]
    if not numbered:
        return ParsedFile(times=np.empty(0), values=np.empty((0, len(PRICE_COLUMNS))))
    note = ""
    if all(is_number(cell) for cell in numbered[0][1]):
        order, note = list(range(ROW_WIDTH)), NO_HEADER_NOTE
    else:
        order = column_order(numbered[0][1], name)
        numbered = numbered[1:]
    times, values, lines, iso = [], [], [], set()
    for line, row in numbered:
        cells = [row[i].strip() if i < len(row) else "" for i in order]
        stamp, iso_given = csv_time(cells[0], name, line)
        iso.add(iso_given)
        times.append(stamp)
        values.append(
            [csv_number(cell, PRICE_COLUMNS[i], name, line) for i, cell in enumerate(cells[1:])]
        )
        lines.append(line)
    if len(iso) > 1:
        raise UnreadableFile(name, "the time column mixes numbers and ISO dates")
    return ParsedFile(
        times=np.array(times, dtype=np.float64),
        values=np.array(values, dtype=np.float64).reshape(-1, len(PRICE_COLUMNS)),
        times_in_ms=ISO_DATES if True in iso else None,
        note=note,
        lines=np.array(lines),
    )


def csv_time(cell: str, name: str, line: int) -> tuple[float, bool]:
    """A CSV time cell as (value, whether it was an ISO date converted to ms)."""
    if not cell:
        return math.nan, False
    if is_number(cell):
        return float(cell), False
    try:
        return iso_ms(cell), True
    except ValueError:
        raise UnreadableFile(
            name, f"line {line}: time {cell!r} is neither a number nor an ISO date"
        ) from None


def csv_number(cell: str, column: str, name: str, line: int) -> float:
    if not cell:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise UnreadableFile(name, f"line {line}: {column} {cell!r} is not a number") from None


def floats(column: Any) -> np.ndarray:
    """An arrow column as float64; nulls are NaN."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def arrow_times(column: Any, name: str, data_file: DataFile) -> tuple[Any, str | None, float]:
    """(the time column as numbers, how its unit is known or None, its ticks per ms)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(column.type):
        # The column's type carries its unit: nothing to judge (unzoned counts as UTC).
        return pc.cast(column, pa.int64()), "typed", UNITS_PER_MS[column.type.unit]
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return column, None, 1.0
    raise UnreadableFile(
        data_file.name, f"the time column {name!r} is {column.type}, not a time or number"
    )


def read_arrow(data_file: DataFile) -> ParsedFile:
    """feather or parquet through pyarrow; columns by name, a typed time column in ms."""
    try:
        import pyarrow as pa
        from pyarrow import feather, parquet
    except ImportError:
        raise MissingDependency(
            "pyarrow",
            f"reading {data_file.name}",
            "pip install 'opportunity-scanner[feather]', or convert the file to json or csv",
        ) from None
    try:
        if data_file.extension == ".feather":
            table = feather.read_table(data_file.path)
        else:
            table = parquet.read_table(data_file.path)
    except (pa.ArrowException, ValueError) as exc:
        raise UnreadableFile(
            data_file.name, f"not a readable {data_file.extension[1:]} file ({exc})"
        ) from None
    names = {column.lower(): column for column in table.column_names}
    times = [names[n] for n in TIME_NAMES if n in names]
    missing = [column for column in PRICE_COLUMNS if column not in names]
    if len(times) != 1 or missing:
        raise UnreadableFile(
            data_file.name,
            f"needs columns date, {', '.join(PRICE_COLUMNS)}; has {', '.join(table.column_names)}",
        )
    time_column, times_in_ms, per_ms = arrow_times(table.column(times[0]), times[0], data_file)
    try:
        values = np.column_stack([floats(table.column(names[c])) for c in PRICE_COLUMNS])
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise UnreadableFile(data_file.name, f"a price column is not numeric ({exc})") from None
    return ParsedFile(
        times=floats(time_column) / per_ms,
        values=values.reshape(-1, len(PRICE_COLUMNS)),
        times_in_ms=times_in_ms,
    )
