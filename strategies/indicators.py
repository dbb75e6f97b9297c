"""Indicators over ccxt-shaped candles, computed by TA-Lib (no hand-written loops)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import talib

# Column positions of a ccxt candle row [ms, open, high, low, close, volume].
TIME, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)


@dataclass(frozen=True, slots=True)
class Bands:
    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray

    @property
    def width(self) -> np.ndarray:
        return (self.upper - self.lower) / self.middle


def columns(candles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """High, low, close, volume as contiguous float64 arrays (what TA-Lib wants)."""
    return tuple(np.ascontiguousarray(candles[:, i], dtype=np.float64)  # type: ignore[return-value]
                 for i in (HIGH, LOW, CLOSE, VOLUME))


def ema(close: np.ndarray, period: int) -> np.ndarray:
    return talib.EMA(close, timeperiod=period)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.RSI(close, timeperiod=period)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.ATR(high, low, close, timeperiod=period)


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.ADX(high, low, close, timeperiod=period)


def macd_histogram(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> np.ndarray:
    _macd, _signal, histogram = talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    return histogram


def bollinger(close: np.ndarray, period: int = 20, deviations: float = 2.0) -> Bands:
    upper, middle, lower = talib.BBANDS(close, timeperiod=period, nbdevup=deviations, nbdevdn=deviations)
    return Bands(upper, middle, lower)


def donchian_high(high: np.ndarray, period: int) -> np.ndarray:
    return talib.MAX(high, timeperiod=period)


def donchian_low(low: np.ndarray, period: int) -> np.ndarray:
    return talib.MIN(low, timeperiod=period)


def sma(values: np.ndarray, period: int) -> np.ndarray:
    return talib.SMA(values, timeperiod=period)


def iso_of(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
