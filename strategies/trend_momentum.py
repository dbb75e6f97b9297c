"""trend_momentum: EMA20 > EMA50, MACD histogram crossing above 0, ADX14 > 20
(mirror for shorts); stop 2·ATR, target 3·ATR."""

from __future__ import annotations

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity

NAME = "trend_momentum"
FAST_EMA, SLOW_EMA = 20, 50
ADX_PERIOD, ADX_MIN = 14, 20.0
ATR_PERIOD = 14
STOP_ATR, TARGET_ATR = 2.0, 3.0
# A cross in the last few hourly bars is still actionable at the last close.
CROSS_WINDOW_BARS = 3
# ADX this far above its minimum counts as full trend strength for confidence.
ADX_FULL_STRENGTH = 30.0


def crossed(histogram: np.ndarray, direction: int) -> bool:
    recent = histogram[-(CROSS_WINDOW_BARS + 1) :] * direction
    return bool(np.any((recent[:-1] <= 0) & (recent[1:] > 0)) and recent[-1] > 0)


def evaluate(symbol: str, candles: np.ndarray, source: str) -> Opportunity | None:
    high, low, close, _volume = ind.columns(candles)
    fast, slow = ind.ema(close, FAST_EMA)[-1], ind.ema(close, SLOW_EMA)[-1]
    histogram = ind.macd_histogram(close)
    strength = ind.adx(high, low, close, ADX_PERIOD)[-1]
    if not strength > ADX_MIN:
        return None
    direction = (
        1
        if fast > slow and crossed(histogram, 1)
        else -1
        if fast < slow and crossed(histogram, -1)
        else 0
    )
    if direction == 0:
        return None
    entry, range_ = close[-1], ind.atr(high, low, close, ATR_PERIOD)[-1]
    side = "long" if direction > 0 else "short"
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side,
        entry=entry,
        stop=entry - direction * STOP_ATR * range_,
        target=entry + direction * TARGET_ATR * range_,
        confidence=0.4 + 0.6 * min(1.0, (strength - ADX_MIN) / ADX_FULL_STRENGTH),
        horizon="1-3 days",
        rationale=(
            f"EMA20 {fast:.4g} {'above' if direction > 0 else 'below'} EMA50 {slow:.4g}, "
            f"MACD histogram crossed {'above' if direction > 0 else 'below'} 0 "
            f"({histogram[-1]:.3g}) with ADX14 {strength:.1f} > {ADX_MIN:g}"
        ),
        data_source=source,
        as_of=ind.iso_of(candles[-1, ind.TIME]),
    )


def run(snapshot: MarketSnapshot) -> list[Opportunity]:
    found = (
        evaluate(symbol, candles, snapshot.source)
        for symbol, candles in snapshot.candles_1h.items()
    )
    return [opportunity for opportunity in found if opportunity is not None]
