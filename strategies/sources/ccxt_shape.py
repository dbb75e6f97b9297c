"""The one code path from ccxt-shaped records to a consistent MarketSnapshot.

Every non-bundled source (the user's files, a live exchange through ccxt)
hands its raw rows here: candles ``[ms, o, h, l, c, v]`` as ccxt's
``fetch_ohlcv`` returns them, funding records as ``fetch_funding_rate_history``
returns them, markets as ``load_markets`` returns them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from strategies.market_data import MarketSnapshot

CANDLE_COLUMNS = 6
TIME, CLOSE = 0, 4
# What a market says when its source gives no metadata: a common retail spot
# fee, and no tick (so no tick costs are assumed).
DEFAULT_FEE = 0.001
MARKET_KEYS = (
    "id",
    "symbol",
    "base",
    "quote",
    "type",
    "spot",
    "active",
    "maker",
    "taker",
    "precision",
    "limits",
)


@dataclass
class RawMarketData:
    """What a source collected, keyed by symbol, before alignment."""

    candles_1h: dict[str, np.ndarray] = field(default_factory=dict)
    candles_5m: dict[str, np.ndarray] = field(default_factory=dict)
    perp_1h: dict[str, np.ndarray] = field(default_factory=dict)
    funding: dict[str, np.ndarray] = field(default_factory=dict)
    markets: dict[str, dict[str, Any]] = field(default_factory=dict)
    holdings: dict[str, float] = field(default_factory=dict)


def read_only(table: np.ndarray) -> np.ndarray:
    table.setflags(write=False)
    return table


def candle_table(rows: Iterable[Sequence[Any]]) -> np.ndarray:
    """ccxt OHLCV rows as a time-sorted float64 (n, 6) table, without duplicates or gaps in values.

    Rows with a missing price (ccxt gives None for an empty bar) are dropped; a
    missing volume counts as 0.
    """
    clean = [
        [
            float(value)
            if value is not None
            else (0.0 if column == CANDLE_COLUMNS - 1 else math.nan)
            for column, value in enumerate(row[:CANDLE_COLUMNS])
        ]
        for row in rows
    ]
    table = np.array(clean, dtype=np.float64).reshape(-1, CANDLE_COLUMNS)
    table = table[np.all(np.isfinite(table), axis=1)]
    _, first = np.unique(table[:, TIME], return_index=True)
    return read_only(table[first])


def close_table(rows: Iterable[Sequence[Any]]) -> np.ndarray:
    """A perpetual's candles reduced to rows ``[ms, close]`` (what strategies read of a perp)."""
    return read_only(np.ascontiguousarray(candle_table(rows)[:, [TIME, CLOSE]]))


def funding_table(records: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """ccxt funding-rate records as a time-sorted (n, 2) table ``[ms, rate]``."""
    rows = [
        (float(r["timestamp"]), float(r["fundingRate"]))
        for r in records
        if r.get("timestamp") is not None and r.get("fundingRate") is not None
    ]
    table = np.array(rows, dtype=np.float64).reshape(-1, 2)
    _, first = np.unique(table[:, TIME], return_index=True)
    return read_only(table[first])


def market_record(symbol: str, market: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of a ccxt market the strategies read, with fee defaults filled in."""
    record = {key: market[key] for key in MARKET_KEYS if market and key in market}
    record["symbol"] = symbol
    for fee in ("maker", "taker"):
        if record.get(fee) is None:
            record[fee] = DEFAULT_FEE
    record.setdefault("precision", {})
    record.setdefault("limits", {})
    return record


def until(table: np.ndarray, as_of_ms: float) -> np.ndarray:
    """The rows at or before ``as_of_ms`` (a view, not a copy)."""
    return table[: int(np.searchsorted(table[:, TIME], as_of_ms, side="right"))]


def aligned_snapshot(
    source: str, symbols: tuple[str, ...], raw: RawMarketData, as_of_ms: int
) -> MarketSnapshot:
    """A snapshot of ``symbols`` in which no series reaches past one shared as-of time.

    The source decides the as-of (the live source: the last closed hour; the files
    source: the newest hourly candle over its usable files), never the symbol that
    ends first: that would move every other symbol's findings into the past."""
    as_of = as_of_ms

    def cut(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {s: until(series[s], as_of) for s in symbols if s in series}

    return MarketSnapshot(
        source=source,
        as_of_ms=as_of,
        symbols=symbols,
        markets={s: raw.markets.get(s) or market_record(s, None) for s in symbols},
        candles_1h=cut(raw.candles_1h),
        candles_5m=cut(raw.candles_5m),
        funding=cut(raw.funding),
        perp_1h=cut(raw.perp_1h),
        holdings={s: q for s, q in raw.holdings.items() if s in symbols},
    )
