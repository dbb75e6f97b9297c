"""The files source: a directory of the user's own OHLCV files.

It reads the layout freqtrade users already have (``user_data/data/<exchange>``):

    BTC_USDT-1h.json | .json.gz | .csv | .feather     spot candles (1h required, 5m optional)
    BTC_USDT-5m.json ...
    futures/BTC_USDT_USDT-1h-futures.<ext>           perpetual candles (optional)
    futures/BTC_USDT_USDT-8h-funding_rate.<ext>      funding (optional; the rate in "open")
    markets.json                                     ccxt markets by symbol (optional)
    holdings.json                                    {"BTC/USDT": 0.5, ...} (optional)

JSON files hold ``[[ms, open, high, low, close, volume], ...]`` (freqtrade's
json format); CSV files have a header and a millisecond or ISO-8601 time
column; feather files need pyarrow. Files are read once, when the provider is
built; every snapshot is a view of them cut at one shared as-of time.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from strategies.errors import MarketDataUnavailable, MissingDependency, UnknownSymbol
from strategies.market_data import MarketSnapshot
from strategies.sources import ccxt_shape as shape

SOURCE_NAME = "files"
MS_PER_S = 1000
EXTENSIONS = (".json", ".json.gz", ".csv", ".feather")
FUTURES_DIR = "futures"
FEATHER_COLUMNS = ("date", "open", "high", "low", "close", "volume")
# Funding files are 8-hourly in older freqtrade versions and 1-hourly in newer ones.
FUNDING_TIMEFRAMES = ("8h", "1h")
# Hex digits of the SHA-256 naming a directory's data version (see directory_version).
VERSION_HEX_DIGITS = 16


def symbol_of(stem: str, timeframe_suffix: str) -> str:
    """'BTC_USDT-1h' -> 'BTC/USDT'; 'BTC_USDT_USDT-1h-futures' -> 'BTC/USDT' (its spot pair)."""
    base, quote, *_settle = stem.removesuffix(timeframe_suffix).split("_")
    return f"{base}/{quote}"


def stem_and_extension(path: Path) -> tuple[str, str]:
    for extension in EXTENSIONS:
        if path.name.endswith(extension):
            return path.name.removesuffix(extension), extension
    return path.name, ""


def millis(value: str) -> float:
    """A CSV time cell: epoch milliseconds, or an ISO-8601 date/time (UTC if unzoned)."""
    try:
        return float(value)
    except ValueError:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp() * MS_PER_S


def read_csv(path: Path) -> list[list[Any]]:
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and not row[0].startswith("#")]
    if rows and not rows[0][0].replace(".", "", 1).lstrip("-").isdigit():
        rows = rows[1:]  # a header row
    return [[millis(row[0]), *row[1:6]] for row in rows]


def read_feather(path: Path) -> list[list[Any]]:
    try:
        from pyarrow import feather
    except ImportError:
        raise MissingDependency(
            "pyarrow",
            f"reading {path.name}",
            "pip install pyarrow, or convert the file to json or csv",
        ) from None
    table = feather.read_table(path)
    columns = [table.column(name).to_pylist() for name in FEATHER_COLUMNS]
    columns[0] = [stamp.timestamp() * MS_PER_S for stamp in columns[0]]
    return [list(row) for row in zip(*columns, strict=True)]


def read_rows(path: Path) -> list[list[Any]]:
    """The candle rows of one file, whatever its format."""
    _, extension = stem_and_extension(path)
    if extension == ".feather":
        return read_feather(path)
    if extension == ".csv":
        return read_csv(path)
    opener = gzip.open if extension == ".json.gz" else open
    with opener(path, "rt") as handle:
        rows: list[list[Any]] = json.load(handle)
    return rows


def series_in(directory: Path, suffix: str) -> dict[str, Path]:
    """Files named '<PAIR><suffix><extension>' in ``directory``, by symbol."""
    found = {}
    for path in sorted(directory.glob(f"*{suffix}.*")) if directory.is_dir() else []:
        stem, extension = stem_and_extension(path)
        if extension and stem.endswith(suffix):
            found[symbol_of(stem, suffix)] = path
    return found


def read_json_file(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else {}


def load_directory(directory: Path) -> shape.RawMarketData:
    if not directory.is_dir():
        raise MarketDataUnavailable(SOURCE_NAME, f"{directory} is not a directory")
    raw = shape.RawMarketData(
        candles_1h={
            s: shape.candle_table(read_rows(p)) for s, p in series_in(directory, "-1h").items()
        },
        candles_5m={
            s: shape.candle_table(read_rows(p)) for s, p in series_in(directory, "-5m").items()
        },
        perp_1h={
            s: shape.close_table(read_rows(p))
            for s, p in series_in(directory / FUTURES_DIR, "-1h-futures").items()
        },
        holdings={str(s): float(q) for s, q in read_json_file(directory / "holdings.json").items()},
    )
    for timeframe in FUNDING_TIMEFRAMES:
        for symbol, path in series_in(
            directory / FUTURES_DIR, f"-{timeframe}-funding_rate"
        ).items():
            rates = shape.candle_table(
                read_rows(path)
            )  # freqtrade keeps the rate in the "open" column
            raw.funding.setdefault(symbol, shape.read_only(np.ascontiguousarray(rates[:, :2])))
    markets = read_json_file(directory / "markets.json")
    raw.markets = {s: shape.market_record(s, markets.get(s)) for s in raw.candles_1h}
    raw.candles_1h = {s: t for s, t in raw.candles_1h.items() if len(t)}
    if not raw.candles_1h:
        raise MarketDataUnavailable(
            SOURCE_NAME, f"no hourly candle files (<PAIR>-1h.<ext>) in {directory}"
        )
    return raw


def directory_version(directory: Path) -> str:
    """A hash of every file's relative name, size and modification time under
    ``directory``: what the provider loaded changes only if one of these did."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(directory)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:VERSION_HEX_DIGITS]


class FilesProvider:
    """Serves the user's files; ``latency_ms`` is accepted for symmetry and usually 0."""

    source_name = SOURCE_NAME

    def __init__(self, directory: str | Path, latency_ms: int = 0) -> None:
        self._raw = load_directory(Path(directory))
        # Taken once the files are read: the version of what was loaded.
        self._version = directory_version(Path(directory))
        self._latency_s = latency_ms / MS_PER_S

    def symbols(self) -> tuple[str, ...]:
        return tuple(self._raw.candles_1h)

    def data_version(self) -> str:
        return self._version

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        wanted = tuple(symbols) or self.symbols()
        unknown = [s for s in wanted if s not in self._raw.candles_1h]
        if unknown:
            raise UnknownSymbol(unknown, self.symbols())
        return shape.aligned_snapshot(SOURCE_NAME, wanted, self._raw)
