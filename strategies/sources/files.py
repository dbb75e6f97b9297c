"""The files source: a directory of the user's own OHLCV files, in freqtrade's layout.

The layout and formats are in ``layout`` and ``file_formats``; every file passes
the checks of ``validation`` when the provider is built (the same checks, and the
same table, as ``oppscan data check``). Files are read once; every snapshot is a
view of them cut at one as-of time, the latest hourly candle over the usable
symbols (``data_directory``).

A file that fails a check never stops the service and never gives a wrong
value: its symbol is left out of every scan, in ``MarketSnapshot.excluded`` with
the reason (``unusable_data``, or ``stale_data`` for a symbol that ends too long
before the as-of), and a log line names the file when it is loaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import structlog

from strategies.errors import MarketDataUnavailable, UnknownSymbol
from strategies.market_data import MarketSnapshot
from strategies.sources import ccxt_shape as shape
from strategies.sources.data_directory import DirectoryCheck, check_directory
from strategies.sources.layout import HOLDINGS_FILE, MARKETS_FILE, MS_PER_S, Kind
from strategies.sources.validation import OPEN, TIME, DataLimits, Status

SOURCE_NAME = "files"
# Hex digits of the SHA-256 naming a directory's data version (see directory_version).
VERSION_HEX_DIGITS = 16
log = structlog.get_logger()


def market_data(check: DirectoryCheck) -> shape.RawMarketData:
    """The usable series of a checked directory, as every source hands them on."""
    markets = check.side(MARKETS_FILE)
    symbols = [s for s in check.symbols() if s not in check.excluded()]
    return shape.RawMarketData(
        candles_1h=check.usable(Kind.SPOT, "1h"),
        candles_5m=check.usable(Kind.SPOT, "5m"),
        perp_1h={
            s: shape.read_only(np.ascontiguousarray(t[:, [TIME, shape.CLOSE]]))
            for s, t in check.usable(Kind.FUTURES).items()
        },
        # freqtrade keeps a funding rate in the "open" column.
        funding={
            s: shape.read_only(np.ascontiguousarray(t[:, [TIME, OPEN]]))
            for s, t in check.usable(Kind.FUNDING).items()
        },
        markets={s: shape.market_record(s, markets.get(s)) for s in symbols},
        holdings={str(s): float(q) for s, q in check.side(HOLDINGS_FILE).items()},
    )


def log_findings(check: DirectoryCheck) -> None:
    """One line per file the source will not use as written, naming it."""
    for series in check.series:
        status, name = series.status, series.file.name
        if status is Status.UNUSABLE:
            problems = [str(p) for p in series.problems]
            log.error("market_data_file_unusable", file=name, problems=problems)
        elif status is Status.STALE:
            log.warning("market_data_file_stale", file=name, problem=str(series.stale))
        elif status is Status.REPAIRED:
            repairs = [str(p) for p in series.repairs]
            log.warning("market_data_file_repaired", file=name, repairs=repairs)
    for side in check.side_files:
        if side.problem:
            log.error("market_data_file_unusable", file=side.name, problems=[str(side.problem)])


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

    def __init__(
        self,
        directory: str | Path,
        limits: DataLimits,
        latency_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        directory = Path(directory)
        if not directory.is_dir():
            raise MarketDataUnavailable(SOURCE_NAME, f"{directory} is not a directory")
        self.check = check_directory(directory, limits, clock() * MS_PER_S)
        if not self.check.symbols():
            raise MarketDataUnavailable(
                SOURCE_NAME, f"no hourly candle files (<PAIR>-1h.<ext>) in {directory}"
            )
        log_findings(self.check)
        self._raw = market_data(self.check)
        self._excluded = self.check.excluded()
        # Taken once the files are read: the version of what was loaded.
        self._version = directory_version(directory)
        self._latency_s = latency_ms / MS_PER_S
        log.info(
            "market_data_loaded",
            source=SOURCE_NAME,
            directory=str(directory),
            symbols=len(self.check.symbols()),
            excluded=sorted(self._excluded),
            as_of_ms=self.check.as_of_ms,
        )

    def symbols(self) -> tuple[str, ...]:
        """Every symbol with an hourly file, usable or not: a scan may ask for any, and
        hears why one is left out."""
        return self.check.symbols()

    def data_version(self) -> str:
        return self._version

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        wanted = tuple(symbols) or self.symbols()
        unknown = [s for s in wanted if s not in self.symbols()]
        if unknown:
            raise UnknownSymbol(unknown, self.symbols())
        excluded = tuple(self._excluded[s] for s in wanted if s in self._excluded)
        usable = tuple(s for s in wanted if s not in self._excluded)
        if not usable or self.check.as_of_ms is None:
            reasons = "; ".join(skip.message for skip in excluded)
            raise MarketDataUnavailable(SOURCE_NAME, f"no usable data for the scan: {reasons}")
        snapshot = shape.aligned_snapshot(SOURCE_NAME, usable, self._raw, self.check.as_of_ms)
        return replace(snapshot, excluded=excluded)
