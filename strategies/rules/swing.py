"""swing: on daily bars, above the 200-day EMA, a pullback to the 50-day EMA
with RSI14 turning up from the 40–50 zone; stop under the 50-day EMA, 2 R target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
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


DEFAULTS = Params()


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> Opportunity | None:
    days = ind.resample(ind.bars_of(candles), ind.HOURS_PER_DAY)
    if len(days) <= params.trend_ema:
        return None
    trend = ind.ema(days.close, params.trend_ema)[-1]
    support = ind.ema(days.close, params.pullback_ema)[-1]
    strength = ind.rsi(days.close, params.rsi_period)
    entry, recent_low = days.close[-1], days.low[-params.touch_days :].min()
    touched = recent_low <= support * (1.0 + params.touch_tolerance)
    turning_up = params.rsi_low <= strength[-2] <= params.rsi_high and strength[-1] > strength[-2]
    if not (entry > trend and entry > support and touched and turning_up):
        return None
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
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    found = (
        evaluate(symbol, candles, source=snapshot.source, params=params)
        for symbol, candles in snapshot.candles_1h.items()
    )
    return [opportunity for opportunity in found if opportunity is not None]
