"""swing: on daily bars, above the 200-day EMA, a pullback to the 50-day EMA
with RSI14 turning up from the 40–50 zone; stop under the 50-day EMA, 2 R target.

What to do: open a long with a market order at the last close; exit at the
stop or the target, or after three weeks (504 hourly bars). Single-leg.
Skips: ``insufficient_history`` under 201 daily candles (resampled from the
hourly ones), ``no_signal`` naming which of trend, pullback and RSI turn failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import DAILY, Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import blend

NAME = "swing"


@dataclass(frozen=True, slots=True)
class Params:
    trend_ema: int = 200
    pullback_ema: int = 50
    rsi_period: int = 14
    # RSI between 40 and 50 is a pullback inside an uptrend, not a breakdown.
    rsi_low: float = 40.0
    rsi_high: float = 50.0
    # A low within 2 % of the 50-day EMA in the last 3 days counts as touching it.
    touch_tolerance: float = 0.02
    touch_days: int = 3
    atr_period: int = 14
    # The stop sits one daily ATR under the 50-day EMA: below it the pullback has failed.
    stop_atr: float = 1.0
    # Swing trades aim for twice the risk.
    target_r: float = 2.0
    # Close 10 % above the 200-day EMA is a firmly established uptrend.
    full_trend_margin: float = 0.10
    confidence_floor: float = 0.4
    # "1-3 weeks": a swing not done in three weeks has become a position.
    horizon_bars: int = 21 * ind.HOURS_PER_DAY


DEFAULTS = Params()


def why_quiet(
    close: float, trend: float, support: float, recent_low: float, rsi: np.ndarray, params: Params
) -> str:
    """Which of uptrend, pullback and RSI turn failed, with their numbers."""
    failed = []
    if not (close > trend and close > support):
        failed.append(
            f"daily close {close:.6g} not above both EMA{params.trend_ema} {trend:.6g} and "
            f"EMA{params.pullback_ema} {support:.6g}"
        )
    if not recent_low <= support * (1.0 + params.touch_tolerance):
        failed.append(
            f"no pullback: {params.touch_days}-day low {recent_low:.6g} over "
            f"{params.touch_tolerance:.0%} above EMA{params.pullback_ema}"
        )
    if not (params.rsi_low <= rsi[-2] <= params.rsi_high and rsi[-1] > rsi[-2]):
        failed.append(
            f"RSI{params.rsi_period} {rsi[-2]:.1f} -> {rsi[-1]:.1f} not turning up from "
            f"{params.rsi_low:g}-{params.rsi_high:g}"
        )
    return "; ".join(failed)


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> Opportunity | Skip:
    days = ind.resample(ind.bars_of(candles), ind.HOURS_PER_DAY)
    if len(days) <= params.trend_ema:
        return insufficient(symbol, len(days), params.trend_ema + 1, DAILY)
    trend = ind.ema(days.close, params.trend_ema)[-1]
    support = ind.ema(days.close, params.pullback_ema)[-1]
    strength = ind.rsi(days.close, params.rsi_period)
    entry, recent_low = days.close[-1], days.low[-params.touch_days :].min()
    touched = recent_low <= support * (1.0 + params.touch_tolerance)
    turning_up = params.rsi_low <= strength[-2] <= params.rsi_high and strength[-1] > strength[-2]
    if not (entry > trend and entry > support and touched and turning_up):
        return quiet(symbol, why_quiet(entry, trend, support, recent_low, strength, params))
    range_ = ind.atr(days.high, days.low, days.close, params.atr_period)[-1]
    stop = support - params.stop_atr * range_
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side="long",
        entry=entry,
        stop=stop,
        target=entry + params.target_r * (entry - stop),
        confidence=blend(params.confidence_floor, (entry / trend - 1.0) / params.full_trend_margin),
        horizon="1-3 weeks",
        rationale=(
            f"daily close {entry:.6g} above EMA{params.trend_ema} {trend:.6g}, pulled back to "
            f"EMA{params.pullback_ema} {support:.6g} (low {recent_low:.6g}) with "
            f"RSI{params.rsi_period} turning up {strength[-2]:.1f} -> {strength[-1]:.1f}"
        ),
        data_source=source,
        as_of=days.as_of,
        horizon_bars=params.horizon_bars,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(symbol, snapshot.hourly(symbol), source=snapshot.source, params=params)
        for symbol in snapshot.symbols
    )
