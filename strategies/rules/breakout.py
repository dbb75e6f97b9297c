"""breakout: Bollinger width in its lowest 20 % (a squeeze), then a close above
the 20-bar Donchian high on volume > 1.5× its average.

What to do: open a long with a market order at the breakout bar's close;
exit at the stop or the target, or after two days (48 hourly bars).
Single-leg. Skips: ``insufficient_history`` under 41 hourly candles,
``no_signal`` naming which of squeeze, breakout and volume surge failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import blend

NAME = "breakout"


@dataclass(frozen=True, slots=True)
class Params:
    band_period: int = 20
    band_deviations: float = 2.0
    # The squeeze: band width in the lowest fifth of its last 30 days of hourly bars.
    squeeze_percentile: float = 20.0
    squeeze_lookback_bars: int = 30 * ind.HOURS_PER_DAY
    # The breakout level: the highest high of the 20 bars before the signal bar.
    donchian_period: int = 20
    # Volume confirms a breakout when it is 1.5x its 20-bar average.
    volume_period: int = 20
    volume_surge: float = 1.5
    atr_period: int = 14
    # A failed breakout falls back into the range fast: a 1.5 ATR stop, 3 ATR target (2R).
    stop_atr: float = 1.5
    target_atr: float = 3.0
    # Volume at 3x its average (1.5x past the surge line) counts as full confirmation.
    surge_full_excess: float = 1.5
    confidence_floor: float = 0.4
    # "1-2 days": a breakout that has not run in two days has failed.
    horizon_bars: int = 2 * ind.HOURS_PER_DAY


DEFAULTS = Params()


def why_quiet(
    width: float, threshold: float, close: float, prior_high: float, surge: float, params: Params
) -> str:
    """Which of squeeze, breakout and volume surge failed, with their numbers."""
    failed = []
    if not width <= threshold:
        failed.append(f"no squeeze (width {width:.4f} > {threshold:.4f})")
    if not close > prior_high:
        failed.append(
            f"close {close:.6g} not above the {params.donchian_period}-bar high {prior_high:.6g}"
        )
    if not surge > params.volume_surge:
        failed.append(f"volume {surge:.1f}x its average (needs {params.volume_surge:g}x)")
    return "; ".join(failed)


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> Opportunity | Skip:
    bars = ind.bars_of(candles)
    need = params.band_period + params.donchian_period + 1
    if len(bars) < need:
        return insufficient(symbol, len(bars), need)
    width = ind.bollinger(bars.close, params.band_period, params.band_deviations).width
    threshold = float(
        np.nanpercentile(width[-params.squeeze_lookback_bars :], params.squeeze_percentile)
    )
    # The squeeze is judged on the bar before the breakout bar, which widens the bands.
    squeezed = width[-2] <= threshold
    prior_high = ind.donchian_high(bars.high, params.donchian_period)[-2]
    average_volume = ind.sma(bars.volume, params.volume_period)[-2]
    entry, surge = bars.close[-1], bars.volume[-1] / average_volume
    if not (squeezed and entry > prior_high and surge > params.volume_surge):
        return quiet(symbol, why_quiet(width[-2], threshold, entry, prior_high, surge, params))
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side="long",
        entry=entry,
        stop=entry - params.stop_atr * range_,
        target=entry + params.target_atr * range_,
        confidence=blend(
            params.confidence_floor, (surge - params.volume_surge) / params.surge_full_excess
        ),
        horizon="1-2 days",
        rationale=(
            f"Bollinger width {width[-2]:.4f} in its lowest {params.squeeze_percentile:g}% "
            f"(<= {threshold:.4f}), close {entry:.6g} above the {params.donchian_period}-bar high "
            f"{prior_high:.6g} on {surge:.1f}x average volume"
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
