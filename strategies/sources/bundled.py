"""The bundled market-data source: a synthetic year committed with the code.

Loaded once per process and shared read-only across scans; a snapshot for a
set of symbols holds views of the loaded arrays, never copies.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from strategies.errors import UnknownSymbol
from strategies.market_data import MarketSnapshot

DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "bundled.npz"
SOURCE_NAME = "bundled-synthetic"
MS_PER_S = 1000
# Array names in the archive are "<kind>/<BASE>"; kinds map to snapshot fields.
KINDS = {"h1": "candles_1h", "m5": "candles_5m", "funding": "funding", "perp": "perp_1h"}
QUOTE = "USDT"
# Snapshots kept per process, by symbol selection: the bundled data never changes,
# so every strategy of every scan over the same symbols shares one snapshot.
SNAPSHOTS_CACHED = 64
# Hex digits of the file's SHA-256 that name its data version (64 bits: no collision
# between the versions one deployment ever sees).
VERSION_HEX_DIGITS = 16


@functools.cache
def load_dataset(path: Path = DATA_PATH) -> dict[str, Any]:
    """Every series of the dataset as read-only float64 tables with their ms column."""
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_HEX_DIGITS]
    with np.load(path) as archive:
        meta = json.loads(archive["meta"].tobytes())
        series: dict[str, Any] = {"meta": meta, "version": version, **{kind: {} for kind in KINDS}}
        for name in archive.files:
            if name == "meta":
                continue
            kind, base = name.split("/")
            values = archive[name].astype(np.float64)
            stamps = meta["as_of_ms"] - meta["step_ms"][kind] * np.arange(len(values))[::-1]
            table = np.column_stack([stamps, values])
            table.setflags(write=False)
            series[kind][f"{base}/{QUOTE}"] = table
    return series


class BundledProvider:
    """Serves the bundled dataset; ``latency_ms`` simulates an exchange round trip per fetch."""

    source_name = SOURCE_NAME

    def __init__(self, latency_ms: int = 0, path: Path = DATA_PATH) -> None:
        self._latency_s = latency_ms / MS_PER_S
        self._data = load_dataset(path)
        self.snapshot_now = functools.lru_cache(maxsize=SNAPSHOTS_CACHED)(self.build_snapshot)

    def symbols(self) -> tuple[str, ...]:
        return tuple(self._data["h1"])

    def data_version(self) -> str:
        """A hash of the dataset file: it changes only when the file does."""
        return str(self._data["version"])

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)  # the simulated exchange round trip
        return self.snapshot_now(tuple(symbols) or self.symbols())

    def build_snapshot(self, symbols: tuple[str, ...]) -> MarketSnapshot:
        """The snapshot without the simulated latency; served cached as
        ``snapshot_now`` (its arrays are read-only, strategies are pure)."""
        unknown = [symbol for symbol in symbols if symbol not in self._data["h1"]]
        if unknown:
            raise UnknownSymbol(unknown, self.symbols())
        meta = self._data["meta"]
        fields = {
            field: {s: self._data[kind][s] for s in symbols if s in self._data[kind]}
            for kind, field in KINDS.items()
        }
        return MarketSnapshot(
            source=SOURCE_NAME,
            as_of_ms=int(meta["as_of_ms"]),
            symbols=symbols,
            markets={s: meta["markets"][s] for s in symbols},
            holdings={s: q for s, q in meta["holdings"].items() if s in symbols},
            **fields,
        )
