"""trend_momentum: EMA20 > EMA50, MACD histogram crossing above 0, ADX14 > 20
(mirror for shorts); stop 2·ATR, target 3·ATR.

What to do: open a long (short) with a market order at the last close; exit
at the stop or the target, or after three days (72 hourly bars). Single-leg.
Skips: ``insufficient_history`` under 78 hourly candles (EMA50 plus ADX's
warm-up), ``no_signal`` with the EMAs, the histogram and ADX it saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "trend_momentum"


@dataclass(frozen=True, slots=True)
class Params:
    # The classic 20/50 pair: the fast one follows a swing, the slow one the trend.
    fast_ema: int = 20
    slow_ema: int = 50
    # Wilder's periods for ADX and ATR; ADX above 20 is the usual "trending" line.
    adx_period: int = 14
    adx_min: float = 20.0
    atr_period: int = 14
    # 2 ATR stop / 3 ATR target: the catalogue's 1.5 reward-to-risk.
    stop_atr: float = 2.0
    target_atr: float = 3.0
    # A cross in the last few hourly bars is still actionable at the last close.
    cross_window_bars: int = 3
    # ADX this far above its minimum counts as full trend strength for confidence.
    adx_full_strength: float = 30.0
    # A bare trend signal on hourly bars is a modest edge, not a coin flip.
    confidence_floor: float = 0.4
    # "1-3 days": the trade is over by the end of the third day.
    horizon_bars: int = 3 * ind.HOURS_PER_DAY


DEFAULTS = Params()


def crossed(histogram: np.ndarray, direction: int, window: int) -> bool:
    """The histogram crossed 0 in ``direction`` within the last ``window`` bars and stayed."""
    recent = histogram[-(window + 1) :] * direction
    return bool(np.any((recent[:-1] <= 0) & (recent[1:] > 0)) and recent[-1] > 0)


def direction_of(fast: float, slow: float, histogram: np.ndarray, params: Params) -> int | None:
    if fast > slow and crossed(histogram, LONG, params.cross_window_bars):
        return LONG
    if fast < slow and crossed(histogram, SHORT, params.cross_window_bars):
        return SHORT
    return None


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> Opportunity | Skip:
    bars = ind.bars_of(candles)
    need = params.slow_ema + params.adx_period * 2
    if len(bars) < need:
        return insufficient(symbol, len(bars), need)
    fast, slow = ind.ema(bars.close, params.fast_ema)[-1], ind.ema(bars.close, params.slow_ema)[-1]
    histogram = ind.macd_histogram(bars.close)
    strength = ind.adx(bars.high, bars.low, bars.close, params.adx_period)[-1]
    direction = direction_of(fast, slow, histogram, params)
    if direction is None:
        return quiet(
            symbol,
            f"no MACD histogram cross in the last {params.cross_window_bars} bars agreeing with "
            f"EMA{params.fast_ema} {fast:.6g} vs EMA{params.slow_ema} {slow:.6g} "
            f"(histogram {histogram[-1]:.3g})",
        )
    above = "above" if direction == LONG else "below"
    if not strength > params.adx_min:
        return quiet(
            symbol,
            f"MACD histogram crossed {above} 0 but ADX{params.adx_period} {strength:.1f} "
            f"<= {params.adx_min:g}",
        )
    entry = bars.close[-1]
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side_of(direction),
        entry=entry,
        stop=entry - direction * params.stop_atr * range_,
        target=entry + direction * params.target_atr * range_,
        confidence=blend(
            params.confidence_floor, (strength - params.adx_min) / params.adx_full_strength
        ),
        horizon="1-3 days",
        rationale=(
            f"EMA{params.fast_ema} {fast:.6g} {above} EMA{params.slow_ema} {slow:.6g}, "
            f"MACD histogram crossed {above} 0 ({histogram[-1]:.3g}) with "
            f"ADX{params.adx_period} {strength:.1f} > {params.adx_min:g}; "
            f"stop {params.stop_atr:g} ATR, target {params.target_atr:g} ATR (ATR {range_:.4g})"
        ),
        data_source=source,
        as_of=bars.as_of,
        horizon_bars=params.horizon_bars,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(symbol, snapshot.hourly(symbol), source=snapshot.source, params=params)
        for symbol in snapshot.symbols
    )
