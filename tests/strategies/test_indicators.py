"""The TA-Lib-backed indicators against independent textbook implementations.

Close-only indicators (RSI, MACD, Bollinger) run on a real price series: the
US consumer price index, quarterly 1959-2009, as statsmodels ships it
(public-domain FRED data). No real OHLC sample ships in an installable
package here, so ATR (and the rest again) runs on a small committed CC0
fixture of daily bars, tests/strategies/fixtures/daily_ohlcv.csv.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from statsmodels.datasets import macrodata

from strategies import indicators as ind

FIXTURE = Path(__file__).with_name("fixtures") / "daily_ohlcv.csv"


def cpi() -> np.ndarray:
    series: np.ndarray = macrodata.load_pandas().data["cpi"].to_numpy(dtype=np.float64)
    return series


def daily_bars() -> np.ndarray:
    return np.loadtxt(FIXTURE, delimiter=",", comments="#", skiprows=3)


def reference_rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder (1978): simple averages of the first gains/losses, then (n-1)/n smoothing."""
    change = np.diff(close)
    gains, losses = np.maximum(change, 0), np.maximum(-change, 0)
    out = np.full(len(close), np.nan)
    gain, loss = gains[:period].mean(), losses[:period].mean()
    out[period] = 100 * gain / (gain + loss)
    for t in range(period, len(change)):
        gain = (gain * (period - 1) + gains[t]) / period
        loss = (loss * (period - 1) + losses[t]) / period
        out[t + 1] = 100 * gain / (gain + loss)
    return out


def reference_ema(values: np.ndarray, period: int, seed_at: int) -> np.ndarray:
    """EMA with k = 2/(n+1), seeded at ``seed_at`` by the mean of the ``period`` values to there."""
    out = np.full(len(values), np.nan)
    out[seed_at] = values[seed_at - period + 1 : seed_at + 1].mean()
    k = 2 / (period + 1)
    for t in range(seed_at + 1, len(values)):
        out[t] = out[t - 1] + k * (values[t] - out[t - 1])
    return out


def reference_macd(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> np.ndarray:
    """MACD histogram; both EMAs start at the slow one's first bar, as TA-Lib does."""
    line = reference_ema(close, fast, slow - 1) - reference_ema(close, slow, slow - 1)
    signal_line = np.full(len(close), np.nan)
    signal_line[slow - 1 :] = reference_ema(line[slow - 1 :], signal, signal - 1)
    histogram: np.ndarray = line - signal_line
    return histogram


def reference_bollinger(
    close: np.ndarray, period: int = 20, k: float = 2.0
) -> tuple[np.ndarray, ...]:
    windows = np.lib.stride_tricks.sliding_window_view(close, period)
    middle = np.concatenate([np.full(period - 1, np.nan), windows.mean(axis=1)])
    spread = np.concatenate([np.full(period - 1, np.nan), windows.std(axis=1)])  # population std
    return middle + k * spread, middle, middle - k * spread


def reference_atr(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14
) -> np.ndarray:
    true_range = np.maximum(high[1:], close[:-1]) - np.minimum(low[1:], close[:-1])
    out = np.full(len(close), np.nan)
    value = true_range[:period].mean()
    out[period] = value
    for t in range(period + 1, len(close)):
        value = (value * (period - 1) + true_range[t - 1]) / period
        out[t] = value
    return out


def same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert np.array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual[~np.isnan(actual)], expected[~np.isnan(expected)], rtol=1e-9)


@pytest.mark.parametrize("series", [cpi, lambda: daily_bars()[:, 4]], ids=["cpi", "fixture"])
def test_close_only_indicators_match_their_definitions(series: Callable[[], np.ndarray]) -> None:
    close = series()
    same(ind.rsi(close, 14), reference_rsi(close, 14))
    same(ind.macd_histogram(close), reference_macd(close))
    bands = ind.bollinger(close, 20, 2.0)
    for actual, expected in zip(
        (bands.upper, bands.middle, bands.lower), reference_bollinger(close), strict=True
    ):
        same(actual, expected)


def test_cpi_rsi_reads_as_persistent_inflation() -> None:
    # A price index that almost only rises: its RSI sits far above 50 over the sample.
    assert np.nanmean(ind.rsi(cpi(), 14)) > 80


def test_atr_matches_wilder_on_ohlc_bars() -> None:
    bars = daily_bars()
    high, low, close = bars[:, 2], bars[:, 3], bars[:, 4]
    same(ind.atr(high, low, close, 14), reference_atr(high, low, close, 14))


def test_numpy_indicators_match_their_definitions() -> None:
    bars = ind.bars_of(daily_bars())
    gk = (
        0.5 * np.log(bars.high / bars.low) ** 2
        - (2 * np.log(2) - 1) * np.log(bars.close / bars.open) ** 2
    )
    np.testing.assert_allclose(ind.garman_klass_variance(bars), gk)
    typical = (bars.high + bars.low + bars.close) / 3
    last = slice(-20, None)
    assert ind.rolling_vwap(bars, 20)[-1] == pytest.approx(
        (typical[last] * bars.volume[last]).sum() / bars.volume[last].sum()
    )
    days = ind.resample(bars, 7)
    assert days.close[-1] == bars.close[-1] and days.high[-1] == bars.high[-7:].max()
    assert days.open[-1] == bars.open[-7] and days.volume[-1] == pytest.approx(
        bars.volume[-7:].sum()
    )


def test_corwin_schultz_recovers_a_known_spread() -> None:
    spread = 0.003
    high, low = np.full(50, 100 * (1 + spread / 2)), np.full(50, 100 * (1 - spread / 2))
    np.testing.assert_allclose(ind.corwin_schultz_spread(high, low), spread)
