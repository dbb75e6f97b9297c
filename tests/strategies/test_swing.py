import numpy as np
import pytest

from strategies import indicators as ind
from strategies.findings import insufficient
from strategies.rules import swing
from tests.strategies.synthetic import assert_quiet, assert_well_formed, candles, path, wilder_atr

HOURS_PER_DAY = 24


def uptrend_pullback(last_day: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """240 days up, 3 days down to the 50-day EMA, one day up: daily closes and hourly bars."""
    daily = path((240, 0.3), (3, -1.6), (1, last_day))
    return daily, candles(np.repeat(daily, HOURS_PER_DAY), half_range=0.5)


def daily_bars(hourly: np.ndarray) -> np.ndarray:
    groups = hourly.reshape(-1, HOURS_PER_DAY, 6)
    return np.column_stack(
        [
            groups[:, -1, 0],
            groups[:, 0, 1],
            groups[:, :, 2].max(axis=1),
            groups[:, :, 3].min(axis=1),
            groups[:, -1, 4],
            groups[:, :, 5].sum(axis=1),
        ]
    )


def test_fires_long_with_stop_under_the_50_day_ema() -> None:
    daily, hourly = uptrend_pullback()
    strength = ind.rsi(daily, 14)
    assert 40 <= strength[-2] <= 50 < strength[-1] or 40 <= strength[-2] < strength[-1]
    found = swing.evaluate("AAA/USDT", hourly, source="t")
    assert found is not None
    support = ind.ema(daily, 50)[-1]
    atr = wilder_atr(daily_bars(hourly))[-1]
    assert found.side == "long" and found.entry == pytest.approx(daily[-1])
    assert found.stop == pytest.approx(support - atr)
    assert found.target == pytest.approx(daily[-1] + 2 * (daily[-1] - (support - atr)))
    assert found.risk_reward == pytest.approx(2.0)
    trend = ind.ema(daily, 200)[-1]
    assert found.confidence == pytest.approx(
        0.4 + 0.6 * min(1.0, (daily[-1] / trend - 1) / 0.1), abs=1e-4
    )
    assert f"{strength[-2]:.1f} -> {strength[-1]:.1f}" in found.rationale
    assert_well_formed(found)


def test_silent_while_rsi_keeps_falling() -> None:
    _, hourly = uptrend_pullback(last_day=-0.5)
    assert_quiet(swing.evaluate("AAA/USDT", hourly, source="t"), "not turning up from 40-50")


def test_silent_below_the_200_day_ema() -> None:
    daily = path((240, -0.1), (3, -1.6), (1, 0.5), start=200.0)
    assert_quiet(
        swing.evaluate("AAA/USDT", candles(np.repeat(daily, HOURS_PER_DAY)), source="t"),
        "not above both EMA200",
    )


def test_skips_without_200_days() -> None:
    daily = path((150, 0.1), start=200.0)
    skip = swing.evaluate("AAA/USDT", candles(np.repeat(daily, HOURS_PER_DAY)), source="t")
    assert skip == insufficient("AAA/USDT", 151, 201, "daily candles")
    assert skip.message == "151 of 201 daily candles"
