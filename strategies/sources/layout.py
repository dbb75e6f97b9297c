"""Where the files source looks: freqtrade's data directory (``user_data/data/<exchange>``).

    BTC_USDT-1h.<ext>                            spot candles (1h required, 5m optional)
    BTC_USDT-5m.<ext>
    futures/BTC_USDT_USDT-1h-futures.<ext>       perpetual candles (optional)
    futures/BTC_USDT_USDT-8h-funding_rate.<ext>  funding (optional; the rate in "open")
    markets.json                                 ccxt markets by symbol (optional)
    holdings.json                                {"BTC/USDT": 0.5, ...} (optional)

``<ext>`` is one of freqtrade's formats: json, jsongz (``.json.gz``), feather,
parquet, or a CSV with a header. freqtrade writes a pair's file name with every
``/`` and ``:`` turned into ``_`` (``BTC/USDT:USDT`` -> ``BTC_USDT_USDT``); a
perpetual's file is read as the candles of its spot pair's perpetual.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = (".json", ".json.gz", ".csv", ".feather", ".parquet")
FUTURES_DIR = "futures"
MARKETS_FILE = "markets.json"
HOLDINGS_FILE = "holdings.json"
MS_PER_S = 1000
HOUR_MS = 3_600_000


class Kind(enum.StrEnum):
    """What a file holds, from its name."""

    SPOT = "spot"
    FUTURES = "futures"
    FUNDING = "funding_rate"


# (kind, timeframe, the name's suffix before the extension, directory under the root)
SERIES = (
    (Kind.SPOT, "1h", "-1h", ""),
    (Kind.SPOT, "5m", "-5m", ""),
    (Kind.FUTURES, "1h", "-1h-futures", FUTURES_DIR),
    # Funding files are 8-hourly in older freqtrade versions and 1-hourly in newer ones.
    (Kind.FUNDING, "8h", "-8h-funding_rate", FUTURES_DIR),
    (Kind.FUNDING, "1h", "-1h-funding_rate", FUTURES_DIR),
)
TIMEFRAME_MS = {"5m": 5 * 60 * MS_PER_S, "1h": HOUR_MS, "8h": 8 * HOUR_MS}


@dataclass(frozen=True, slots=True)
class DataFile:
    """One series file of the directory."""

    path: Path
    name: str  # relative to the data directory, as messages show it
    symbol: str  # the spot pair, "BTC/USDT"
    kind: Kind
    timeframe: str

    @property
    def bar_ms(self) -> int:
        return TIMEFRAME_MS[self.timeframe]

    @property
    def extension(self) -> str:
        return stem_and_extension(self.path)[1]


def symbol_of(stem: str, suffix: str) -> str:
    """'BTC_USDT' -> 'BTC/USDT'; 'BTC_USDT_USDT' (a perpetual) -> 'BTC/USDT' (its spot pair)."""
    base, quote, *_settle = stem.removesuffix(suffix).split("_")
    return f"{base}/{quote}"


def stem_and_extension(path: Path) -> tuple[str, str]:
    for extension in EXTENSIONS:
        if path.name.endswith(extension):
            return path.name.removesuffix(extension), extension
    return path.name, ""


def data_files(directory: Path) -> list[DataFile]:
    """Every series file the source reads, spot hourly first, in a stable order."""
    found = []
    for kind, timeframe, suffix, subdirectory in SERIES:
        folder = directory / subdirectory if subdirectory else directory
        for path in sorted(folder.glob(f"*{suffix}.*")) if folder.is_dir() else []:
            stem, extension = stem_and_extension(path)
            if not extension or not stem.endswith(suffix) or "_" not in stem:
                continue
            name = str(path.relative_to(directory))
            found.append(DataFile(path, name, symbol_of(stem, suffix), kind, timeframe))
    return found
