"""What a chart of an opportunity shows: the candles its rule saw, never newer
ones, and the rule's own indicators computed on them.

A scan's rules read one snapshot, cut at its as-of time. The chart is cut at
that same time (rows at or before it), so a source that has moved on since
(a live exchange, a files directory that grew) still draws the scan's market.
Indicators are computed over the whole history up to the as-of, as the rule
computed them, and only then trimmed to the bars shown: a moving average's
first shown point has its full warm-up behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import numpy as np

from strategies import indicators as ind
from strategies.errors import ChartRequestInvalid, ChartSymbolUnknown
from strategies.market_data import MarketSnapshot
from strategies.opportunity import significant
from strategies.overlays import OVERLAYS, Overlay, Series, default_timeframe, pair_spread_series

# Where each timeframe lives in a snapshot.
TIMEFRAMES = {"1h": "candles_1h", "5m": "candles_5m"}
PERPETUAL_MARK = ":"


class Candle(msgspec.Struct, frozen=True):
    """One candle; ``time`` is its open, in Unix seconds (UTC)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class IndicatorPoint(msgspec.Struct, frozen=True):
    time: int  # Unix seconds (UTC), a candle's open
    value: float


class Indicator(msgspec.Struct, frozen=True, kw_only=True):
    """A series the rule computed. ``pane`` is ``price`` (drawn over the candles, in
    price units) or ``oscillator`` (its own scale below them, e.g. a z-score), whose
    ``levels`` are the rule's thresholds on that scale."""

    name: str
    label: str
    pane: str
    points: list[IndicatorPoint]
    levels: list[float] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChartRequest:
    symbol: str
    timeframe: str | None  # None: the strategy's own (1h without a strategy)
    bars: int
    strategy: str | None = None
    versus: str | None = None  # another symbol: adds the pair's spread z-score against it


@dataclass(frozen=True, slots=True)
class ChartData:
    timeframe: str
    candles: list[Candle]
    indicators: list[Indicator]


def symbols_needed(request: ChartRequest) -> tuple[str, ...]:
    """The spot symbols a snapshot must hold to draw ``request``."""
    wanted = [spot_of(request.symbol)]
    if request.versus is not None:
        wanted.append(spot_of(request.versus))
    return tuple(dict.fromkeys(wanted))


def chartable(symbols: tuple[str, ...]) -> list[str]:
    """What a chart may name: each spot symbol and its linear perpetual
    ('BTC/USDT' and 'BTC/USDT:USDT'), whose hourly closes a source may hold."""
    return [*symbols, *(f"{s}{PERPETUAL_MARK}{s.rsplit('/', 1)[-1]}" for s in symbols)]


def spot_of(symbol: str) -> str:
    """'BTC/USDT:USDT' (a linear perpetual) -> 'BTC/USDT'; a spot symbol as it is."""
    return symbol.split(PERPETUAL_MARK, 1)[0]


def validate(
    request: ChartRequest, scan_symbols: tuple[str, ...], strategies: tuple[str, ...]
) -> None:
    """ChartSymbolUnknown for a symbol the scan did not read; ChartRequestInvalid (a
    client's mistake) for an unknown timeframe or strategy."""
    for field, symbol in (("symbol", request.symbol), ("versus", request.versus)):
        if symbol is not None and spot_of(symbol) not in scan_symbols:
            raise ChartSymbolUnknown(field, symbol, tuple(chartable(scan_symbols)))
    if request.timeframe is not None and request.timeframe not in TIMEFRAMES:
        raise ChartRequestInvalid(
            "timeframe", f"unknown timeframe {request.timeframe!r}", tuple(TIMEFRAMES)
        )
    if request.strategy is not None and request.strategy not in strategies:
        raise ChartRequestInvalid("strategy", f"unknown strategy {request.strategy!r}", strategies)


def overlay_of(request: ChartRequest) -> Overlay:
    return OVERLAYS.get(request.strategy or "", Overlay())


def history_of(snapshot: MarketSnapshot, symbol: str, timeframe: str, as_of_ms: int) -> np.ndarray:
    """The symbol's rows at or before ``as_of_ms`` (a perpetual: its hourly closes as
    candles whose open, high and low are the close, volume 0)."""
    if PERPETUAL_MARK in symbol:
        closes = snapshot.perp_1h.get(spot_of(symbol)) if timeframe == "1h" else None
        if closes is None or len(closes) == 0:
            return np.empty((0, 6))
        closes = np.asarray(closes, dtype=np.float64)
        price = closes[:, 1]
        table = np.column_stack([closes[:, 0], price, price, price, price, np.zeros_like(price)])
    else:
        table = np.asarray(
            getattr(snapshot, TIMEFRAMES[timeframe]).get(symbol, np.empty((0, 6))),
            dtype=np.float64,
        )
    if len(table) == 0:
        return table.reshape(0, 6)
    # Rows are time-ordered in every source: the cut is a binary search.
    return table[: int(np.searchsorted(table[:, ind.TIME], as_of_ms, side="right"))]


def chart_of(snapshot: MarketSnapshot, request: ChartRequest, as_of_ms: int) -> ChartData:
    """The last ``request.bars`` candles at or before ``as_of_ms`` and the strategy's
    indicators over them."""
    overlay = overlay_of(request)
    timeframe = request.timeframe or default_timeframe(overlay)
    history = history_of(snapshot, request.symbol, timeframe, as_of_ms)
    partner = (
        history_of(snapshot, request.versus, timeframe, as_of_ms)
        if request.versus is not None
        else None
    )
    shown = history[-request.bars :]
    first_ms = shown[0, ind.TIME] if len(shown) else np.inf
    series = overlay.compute(history) if overlay.timeframe == timeframe else []
    if partner is not None:
        series += pair_spread_series(history, partner)
    return ChartData(
        timeframe=timeframe,
        candles=[candle_of(row) for row in shown],
        indicators=[indicator_of(s, first_ms) for s in series],
    )


def candle_of(row: np.ndarray) -> Candle:
    return Candle(
        time=seconds(row[ind.TIME]),
        # Rounded as an opportunity's levels are: an entry at the close sits on it.
        open=significant(float(row[ind.OPEN])),
        high=significant(float(row[ind.HIGH])),
        low=significant(float(row[ind.LOW])),
        close=significant(float(row[ind.CLOSE])),
        volume=significant(float(row[ind.VOLUME])),
    )


def indicator_of(series: Series, first_ms: float) -> Indicator:
    """The series from the first bar shown, without its warm-up's missing values."""
    keep = (series.times_ms >= first_ms) & np.isfinite(series.values)
    return Indicator(
        name=series.name,
        label=series.label,
        pane=series.pane,
        points=[
            IndicatorPoint(seconds(t), significant(float(v)))
            for t, v in zip(series.times_ms[keep], series.values[keep], strict=True)
        ],
        levels=list(series.levels),
    )


def seconds(ms: float) -> int:
    return int(ms) // ind.MS_PER_S
