"""Each rule's indicators as series a chart can draw: the very indicators, with
the very parameters, the rule decides on (its ``DEFAULTS``).

A strategy without a line-shaped indicator (a portfolio rule, a grid) has no
overlay: its chart shows the candles and the idea's levels only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from strategies import indicators as ind
from strategies.rules import (
    breakout,
    mean_reversion,
    pairs_trading,
    scalping,
    swing,
    trend_momentum,
)

PRICE, OSCILLATOR = "price", "oscillator"
HOURLY, FIVE_MINUTE = "1h", "5m"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    label: str
    pane: str
    times_ms: np.ndarray
    values: np.ndarray
    levels: tuple[float, ...] = ()


def no_series(history: np.ndarray) -> list[Series]:
    return []


Compute = Callable[[np.ndarray], list[Series]]


@dataclass(frozen=True, slots=True)
class Overlay:
    """A rule's indicators, computed from the symbol's candles on the timeframe the
    rule reads. A pair's spread needs its other leg: see ``pair_spread_series``."""

    compute: Compute = field(default=no_series)
    timeframe: str = HOURLY


def default_timeframe(overlay: Overlay) -> str:
    return overlay.timeframe


def bollinger_series(history: np.ndarray, period: int, deviations: float) -> list[Series]:
    bars = ind.bars_of(history)
    bands = ind.bollinger(bars.close, period, deviations)
    label = f"({period}, {deviations:g})"
    return [
        Series("bollinger_upper", f"Bollinger upper {label}", PRICE, bars.time, bands.upper),
        Series("bollinger_middle", f"Bollinger middle {label}", PRICE, bars.time, bands.middle),
        Series("bollinger_lower", f"Bollinger lower {label}", PRICE, bars.time, bands.lower),
    ]


def mean_reversion_series(history: np.ndarray) -> list[Series]:
    p = mean_reversion.DEFAULTS
    return bollinger_series(history, p.band_period, p.band_deviations)


def breakout_series(history: np.ndarray) -> list[Series]:
    p = breakout.DEFAULTS
    bars = ind.bars_of(history)
    high = ind.donchian_high(bars.high, p.donchian_period)
    # The rule compares a close with the high of the bars before it: shift by one.
    prior_high = np.concatenate([[np.nan], high[:-1]])
    donchian = Series(
        "donchian_high", f"{p.donchian_period}-bar high", PRICE, bars.time, prior_high
    )
    return [*bollinger_series(history, p.band_period, p.band_deviations), donchian]


def ema_series(bars: ind.Bars, periods: tuple[int, ...], unit: str = "") -> list[Series]:
    return [
        Series(
            f"ema_{period}{unit}",
            f"EMA{period}{unit}",
            PRICE,
            bars.time,
            ind.ema(bars.close, period),
        )
        for period in periods
    ]


def trend_momentum_series(history: np.ndarray) -> list[Series]:
    p = trend_momentum.DEFAULTS
    return ema_series(ind.bars_of(history), (p.fast_ema, p.slow_ema))


def swing_series(history: np.ndarray) -> list[Series]:
    """The daily EMAs the rule reads, one point per day (at the day's last hour)."""
    p = swing.DEFAULTS
    days = ind.resample(ind.bars_of(history), ind.HOURS_PER_DAY)
    return ema_series(days, (p.pullback_ema, p.trend_ema), unit="d")


def scalping_series(history: np.ndarray) -> list[Series]:
    p = scalping.DEFAULTS
    bars = ind.bars_of(history)
    vwap = Series(
        "vwap", f"VWAP ({p.vwap_bars} bars)", PRICE, bars.time, ind.rolling_vwap(bars, p.vwap_bars)
    )
    return [vwap, *ema_series(bars, (p.fast_ema, p.slow_ema))]


def pair_spread_series(history: np.ndarray, partner: np.ndarray) -> list[Series]:
    """The spread's z-score pairs_trading trades on: log prices of the symbol regressed
    on its partner's over the rule's lookback (common hours only), as the rule fits
    it, with the rule's entry, exit and stop levels."""
    p = pairs_trading.DEFAULTS
    times, mine, theirs = np.intersect1d(
        history[:, ind.TIME], partner[:, ind.TIME], assume_unique=True, return_indices=True
    )
    times, mine, theirs = (
        times[-p.lookback_bars :],
        mine[-p.lookback_bars :],
        theirs[-p.lookback_bars :],
    )
    if len(times) < p.lookback_bars:
        return []
    y = np.log(history[mine, ind.CLOSE])
    x = np.log(partner[theirs, ind.CLOSE])
    slope, intercept = np.polyfit(x, y, 1)
    spread = y - (slope * x + intercept)
    sigma = float(spread.std(ddof=1))
    if not sigma > 0:
        return []
    z = (spread - spread.mean()) / sigma
    levels = (-p.stop_z, -p.entry_z, p.exit_z, p.entry_z, p.stop_z)
    label = f"spread z-score (hedge ratio {slope:.3g}, {p.lookback_bars // ind.HOURS_PER_DAY} days)"
    return [Series("spread_z", label, OSCILLATOR, times, z, levels)]


OVERLAYS: dict[str, Overlay] = {
    mean_reversion.NAME: Overlay(mean_reversion_series),
    breakout.NAME: Overlay(breakout_series),
    trend_momentum.NAME: Overlay(trend_momentum_series),
    swing.NAME: Overlay(swing_series),
    scalping.NAME: Overlay(scalping_series, timeframe=FIVE_MINUTE),
}
