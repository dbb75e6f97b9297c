"""mean_reversion: close below the lower Bollinger band (20, 2) with RSI14 < 30
(mirror short above the upper band with RSI14 > 70); target the middle band,
stop 1.5·ATR."""

from __future__ import annotations

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity

NAME = "mean_reversion"
BAND_PERIOD, BAND_DEVIATIONS = 20, 2.0
RSI_PERIOD, RSI_OVERSOLD, RSI_OVERBOUGHT = 14, 30.0, 70.0
ATR_PERIOD, STOP_ATR = 14, 1.5


def evaluate(symbol: str, candles: np.ndarray, source: str) -> Opportunity | None:
    high, low, close, _volume = ind.columns(candles)
    bands = ind.bollinger(close, BAND_PERIOD, BAND_DEVIATIONS)
    strength = ind.rsi(close, RSI_PERIOD)[-1]
    entry = close[-1]
    if entry < bands.lower[-1] and strength < RSI_OVERSOLD:
        direction, extreme = 1, RSI_OVERSOLD - strength
    elif entry > bands.upper[-1] and strength > RSI_OVERBOUGHT:
        direction, extreme = -1, strength - RSI_OVERBOUGHT
    else:
        return None
    range_ = ind.atr(high, low, close, ATR_PERIOD)[-1]
    band = "lower" if direction > 0 else "upper"
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side="long" if direction > 0 else "short",
        entry=entry,
        stop=entry - direction * STOP_ATR * range_,
        target=bands.middle[-1],
        confidence=0.45 + extreme / RSI_OVERSOLD,
        horizon="4-24 hours",
        rationale=(
            f"close {entry:.4g} beyond the {band} Bollinger band "
            f"{(bands.lower if direction > 0 else bands.upper)[-1]:.4g} with RSI14 {strength:.1f}; "
            f"target the middle band {bands.middle[-1]:.4g}"
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
