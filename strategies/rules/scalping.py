"""scalping: on 5-minute bars, a close crossing the rolling VWAP with EMA9 >
EMA21 (mirror short), taken only when round-trip costs are under 0.2·ATR;
target 1 ATR, stop 0.7 ATR.

What to do: open a long (short) with a market order at the last 5-minute
close; exit at the stop or the target, or within the hour (1 hourly bar).
Single-leg. Skips: ``insufficient_history`` under 289 5-minute candles (a
source without them skips every symbol so), ``no_signal`` with the VWAP cross,
the EMAs or the cost against ATR it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.findings import FIVE_MINUTE, Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "scalping"
FIVE_MIN_BARS_PER_DAY = 288


@dataclass(frozen=True, slots=True)
class Params:
    # VWAP over a rolling day of 5-minute bars: the level intraday traders watch.
    vwap_bars: int = FIVE_MIN_BARS_PER_DAY
    fast_ema: int = 9
    slow_ema: int = 21
    atr_period: int = 14
    # The cross must be on the last bar or the one before: a scalp is stale after 10 minutes.
    cross_window_bars: int = 2
    # Costs above a fifth of the ATR eat most of a 1 ATR target.
    max_cost_atr: float = 0.2
    target_atr: float = 1.0
    stop_atr: float = 0.7
    # Taker fee used when a market carries no fee (a common retail spot rate).
    default_taker_fee: float = 0.001
    confidence_floor: float = 0.3
    # "15-60 minutes": a scalp is closed within the hour.
    horizon_bars: int = 1


DEFAULTS = Params()


def crossed(close: np.ndarray, vwap: np.ndarray, direction: int, window: int) -> bool:
    above = (close[-(window + 1) :] - vwap[-(window + 1) :]) * direction > 0
    return bool(above[-1] and not above[:-1].all())


def direction_of(
    close: np.ndarray, vwap: np.ndarray, fast: float, slow: float, params: Params
) -> int | None:
    """LONG on a cross above VWAP with the fast EMA above the slow; SHORT mirrored."""
    for direction in (LONG, SHORT):
        trend_agrees = (fast - slow) * direction > 0
        if trend_agrees and crossed(close, vwap, direction, params.cross_window_bars):
            return direction
    return None


def round_trip_cost(entry: float, market: dict[str, Any], params: Params) -> float:
    """Taker fee in and out plus one price tick of slippage each way."""
    fee = float(market.get("taker", params.default_taker_fee))
    tick = float(market.get("precision", {}).get("price") or 0.0)
    return entry * 2.0 * fee + 2.0 * tick


def evaluate(
    symbol: str,
    candles: np.ndarray,
    market: dict[str, Any],
    *,
    source: str,
    params: Params = DEFAULTS,
) -> Opportunity | Skip:
    bars = ind.bars_of(candles)
    if len(bars) <= params.vwap_bars:
        return insufficient(symbol, len(bars), params.vwap_bars + 1, FIVE_MINUTE)
    vwap = ind.rolling_vwap(bars, params.vwap_bars)
    fast, slow = ind.ema(bars.close, params.fast_ema)[-1], ind.ema(bars.close, params.slow_ema)[-1]
    direction = direction_of(bars.close, vwap, fast, slow, params)
    if direction is None:
        return quiet(
            symbol,
            f"no 5m VWAP cross in the last {params.cross_window_bars} bars agreeing with "
            f"EMA{params.fast_ema} {fast:.6g} vs EMA{params.slow_ema} {slow:.6g} (close "
            f"{bars.close[-1]:.6g}, VWAP {vwap[-1]:.6g})",
        )
    entry = bars.close[-1]
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    cost = round_trip_cost(entry, market, params)
    if not cost < params.max_cost_atr * range_:
        return quiet(
            symbol,
            f"round-trip cost {cost:.4g} is {cost / range_:.2f} ATR (needs under "
            f"{params.max_cost_atr:g}, ATR {range_:.4g})",
        )
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side_of(direction),
        entry=entry,
        stop=entry - direction * params.stop_atr * range_,
        target=entry + direction * params.target_atr * range_,
        confidence=blend(params.confidence_floor, 1.0 - cost / (params.max_cost_atr * range_)),
        horizon="15-60 minutes",
        rationale=(
            f"5m close {entry:.6g} crossed {'above' if direction == LONG else 'below'} VWAP "
            f"{vwap[-1]:.6g} with EMA{params.fast_ema} {fast:.6g} vs EMA{params.slow_ema} "
            f"{slow:.6g}; round-trip cost {cost:.4g} is {cost / range_:.2f} ATR (< "
            f"{params.max_cost_atr:g}, ATR {range_:.4g})"
        ),
        data_source=source,
        as_of=bars.as_of,
        horizon_bars=params.horizon_bars,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(
            symbol,
            snapshot.five_minute(symbol),
            snapshot.markets.get(symbol, {}),
            source=snapshot.source,
            params=params,
        )
        for symbol in snapshot.symbols
    )
