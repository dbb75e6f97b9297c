"""breakout: Bollinger width in its lowest 20 % (a squeeze), then a close above the
20-bar Donchian high on volume > 1.5x its average."""

from __future__ import annotations

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity

NAME = "breakout"
BAND_PERIOD = 20
# The squeeze: band width in the lowest fifth of its last 30 days of hourly bars.
SQUEEZE_PERCENTILE, SQUEEZE_LOOKBACK_BARS = 20.0, 30 * 24
DONCHIAN_PERIOD = 20
VOLUME_PERIOD, VOLUME_SURGE = 20, 1.5
ATR_PERIOD, STOP_ATR, TARGET_ATR = 14, 1.5, 3.0


def evaluate(symbol: str, candles: np.ndarray, source: str) -> Opportunity | None:
    high, low, close, volume = ind.columns(candles)
    width = ind.bollinger(close, BAND_PERIOD).width
    recent_width = width[-SQUEEZE_LOOKBACK_BARS:]
    threshold = np.nanpercentile(recent_width, SQUEEZE_PERCENTILE)
    squeezed = width[-2] <= threshold
    prior_high = ind.donchian_high(high, DONCHIAN_PERIOD)[-2]
    average_volume = ind.sma(volume, VOLUME_PERIOD)[-2]
    entry = close[-1]
    if not (squeezed and entry > prior_high and volume[-1] > VOLUME_SURGE * average_volume):
        return None
    range_ = ind.atr(high, low, close, ATR_PERIOD)[-1]
    surge = volume[-1] / average_volume
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side="long",
        entry=entry,
        stop=entry - STOP_ATR * range_,
        target=entry + TARGET_ATR * range_,
        confidence=0.4 + 0.2 * min(2.0, surge - VOLUME_SURGE),
        horizon="1-2 days",
        rationale=(
            f"Bollinger width {width[-2]:.4f} in its lowest {SQUEEZE_PERCENTILE:g}% "
            f"(<= {threshold:.4f}), close {entry:.4g} above the 20-bar high {prior_high:.4g} "
            f"on {surge:.1f}x average volume"
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
