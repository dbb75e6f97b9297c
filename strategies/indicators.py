"""Indicators over ccxt-shaped candles.

The classic indicators are TA-Lib's (a well-kept C library, no hand-written
loops); the few TA-Lib lacks (rolling VWAP, Garman–Klass variance,
Corwin–Schultz spread, daily resampling) are vectorised numpy formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import talib

# Column positions of a ccxt candle row [ms, open, high, low, close, volume].
TIME, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)
MS_PER_S = 1000
HOURS_PER_DAY = 24
# Corwin–Schultz (2012) constant: 3 - 2·sqrt(2), the denominator of their alpha.
CS_DENOMINATOR = 3.0 - 2.0 * np.sqrt(2.0)
# Garman–Klass (1980) weight of the open-to-close term: 2·ln 2 - 1.
GK_CLOSE_WEIGHT = 2.0 * np.log(2.0) - 1.0


def as_floats(values: Any) -> np.ndarray:
    """``values`` as a float64 array (no copy when it already is one)."""
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Bars:
    """The columns of a candle table as contiguous float64 arrays (what TA-Lib wants)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)

    @property
    def as_of(self) -> str:
        return iso_of(self.time[-1])


@dataclass(frozen=True, slots=True)
class Bands:
    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray

    @property
    def width(self) -> np.ndarray:
        """Band width as a fraction of the middle band (scale-free across coins)."""
        return as_floats((self.upper - self.lower) / self.middle)


def bars_of(candles: np.ndarray) -> Bars:
    table = np.asarray(candles, dtype=np.float64)
    return Bars(*(np.ascontiguousarray(table[:, column]) for column in range(6)))


def columns(candles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """High, low, close, volume of a candle table."""
    bars = bars_of(candles)
    return bars.high, bars.low, bars.close, bars.volume


def ema(close: np.ndarray, period: int) -> np.ndarray:
    return talib.EMA(close, timeperiod=period)


def sma(values: np.ndarray, period: int) -> np.ndarray:
    return talib.SMA(values, timeperiod=period)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.RSI(close, timeperiod=period)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.ATR(high, low, close, timeperiod=period)


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.ADX(high, low, close, timeperiod=period)


def macd(
    close: np.ndarray,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal line and histogram."""
    line, signal_line, histogram = talib.MACD(
        close, fastperiod=fast, slowperiod=slow, signalperiod=signal
    )
    return line, signal_line, histogram


def macd_histogram(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> np.ndarray:
    return macd(close, fast, slow, signal)[2]


def bollinger(close: np.ndarray, period: int = 20, deviations: float = 2.0) -> Bands:
    upper, middle, lower = talib.BBANDS(
        close, timeperiod=period, nbdevup=deviations, nbdevdn=deviations
    )
    return Bands(upper, middle, lower)


def donchian_high(high: np.ndarray, period: int) -> np.ndarray:
    return talib.MAX(high, timeperiod=period)


def donchian_low(low: np.ndarray, period: int) -> np.ndarray:
    return talib.MIN(low, timeperiod=period)


def rolling_sum(values: np.ndarray, period: int) -> np.ndarray:
    return talib.SUM(values, timeperiod=period)


def rolling_vwap(bars: Bars, period: int) -> np.ndarray:
    """Volume-weighted typical price over the last ``period`` bars."""
    typical = (bars.high + bars.low + bars.close) / 3.0
    return as_floats(rolling_sum(typical * bars.volume, period) / rolling_sum(bars.volume, period))


def log_returns(close: np.ndarray) -> np.ndarray:
    return np.diff(np.log(close))


def garman_klass_variance(bars: Bars) -> np.ndarray:
    """Per-bar Garman–Klass variance estimate from open, high, low and close."""
    range_term = 0.5 * np.log(bars.high / bars.low) ** 2
    return as_floats(range_term - GK_CLOSE_WEIGHT * np.log(bars.close / bars.open) ** 2)


def corwin_schultz_spread(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Corwin–Schultz (2012) bid-ask spread estimate for each pair of adjacent bars.

    Negative estimates (noise when the spread is small) are set to 0, as the
    authors recommend.
    """
    single = np.log(high / low) ** 2
    beta = single[:-1] + single[1:]
    gamma = np.log(np.maximum(high[:-1], high[1:]) / np.minimum(low[:-1], low[1:])) ** 2
    alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / CS_DENOMINATOR - np.sqrt(gamma / CS_DENOMINATOR)
    spread = 2.0 * (np.exp(alpha) - 1.0) / (1.0 + np.exp(alpha))
    return as_floats(np.maximum(spread, 0.0))


def resample(bars: Bars, bars_per_group: int) -> Bars:
    """Aggregate consecutive bars into groups ending at the last bar (e.g. hours -> days).

    Leading bars that do not fill a whole group are dropped, so the newest
    group always ends at the snapshot's as-of time.
    """
    groups = len(bars) // bars_per_group
    start = len(bars) - groups * bars_per_group

    def shaped(values: np.ndarray) -> np.ndarray:
        return values[start:].reshape(groups, bars_per_group)

    return Bars(
        time=np.ascontiguousarray(shaped(bars.time)[:, -1]),
        open=np.ascontiguousarray(shaped(bars.open)[:, 0]),
        high=shaped(bars.high).max(axis=1),
        low=shaped(bars.low).min(axis=1),
        close=np.ascontiguousarray(shaped(bars.close)[:, -1]),
        volume=shaped(bars.volume).sum(axis=1),
    )


def percentile_rank(history: np.ndarray, value: float) -> float:
    """Percentage (0-100) of the finite ``history`` at or below ``value``."""
    finite = history[np.isfinite(history)]
    if finite.size == 0:
        return float("nan")
    return float(100.0 * np.count_nonzero(finite <= value) / finite.size)


def iso_of(ms: float) -> str:
    return datetime.fromtimestamp(ms / MS_PER_S, tz=UTC).isoformat(timespec="seconds")
