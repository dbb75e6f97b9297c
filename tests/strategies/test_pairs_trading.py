import math
import warnings

import numpy as np
import pytest
from statsmodels.tsa.stattools import coint

from strategies.market_data import MarketSnapshot
from strategies.rules import pairs_trading
from tests.strategies.synthetic import assert_well_formed, candles, snapshot

BARS = 30 * 24
RATIO, ANCHOR = 1.2, 0.5


def cointegrated(z_shock: float, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """log x a random walk; log y = ANCHOR + RATIO·log x + a fast AR(1) spread.

    The spread's last value sits ``z_shock`` of its sigmas out.
    """
    rng = np.random.default_rng(seed)
    log_x = np.log(100.0) + np.cumsum(0.01 * rng.standard_normal(BARS))
    spread = np.zeros(BARS)
    for t in range(1, BARS):
        spread[t] = 0.7 * spread[t - 1] + 0.004 * rng.standard_normal()
    spread[-1] = z_shock * spread[:-1].std()
    return log_x, ANCHOR + RATIO * log_x + spread


def pair_snapshot(log_x: np.ndarray, log_y: np.ndarray) -> MarketSnapshot:
    return snapshot(
        {
            "X/USDT": candles(np.exp(log_x), half_range=0.0),
            "Y/USDT": candles(np.exp(log_y), half_range=0.0),
        }
    )


def expected_levels(log_x: np.ndarray, log_y: np.ndarray) -> tuple[float, float, float]:
    slope, intercept = np.polyfit(log_x, log_y, 1)
    residuals = log_y - intercept - slope * log_x
    sigma = residuals.std(ddof=1)
    z = (residuals[-1] - residuals.mean()) / sigma
    return z, sigma, slope


def test_shorts_the_rich_leg_at_two_sigma() -> None:
    log_x, log_y = cointegrated(z_shock=2.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_value = coint(log_y, log_x, trend="c", maxlag=1, autolag=None)[1]
    assert p_value < 0.05
    z, sigma, slope = expected_levels(log_x, log_y)
    assert 2.0 < z < 3.5
    [found] = pairs_trading.run(pair_snapshot(log_x, log_y))
    price = math.exp(log_y[-1])
    assert (found.symbol, found.side) == ("Y/USDT", "short")
    assert found.entry == pytest.approx(price)
    assert found.target == pytest.approx(price * math.exp(-z * sigma))  # back to z = 0
    assert found.stop == pytest.approx(price * math.exp((3.5 - z) * sigma))  # out at z = 3.5
    assert found.confidence == pytest.approx(0.4 + 0.6 * (1 - p_value / 0.05), abs=1e-3)
    assert f"{slope:.2f}x X/USDT" in found.rationale and f"z={z:+.2f}" in found.rationale
    assert_well_formed(found)


def test_buys_the_cheap_leg() -> None:
    [found] = pairs_trading.run(pair_snapshot(*cointegrated(z_shock=-2.8)))
    assert found.side == "long"
    assert_well_formed(found)


def test_silent_past_the_stop() -> None:
    assert pairs_trading.run(pair_snapshot(*cointegrated(z_shock=8.0))) == []


def test_silent_for_independent_walks() -> None:
    rng = np.random.default_rng(3)
    walks = np.log(100.0) + np.cumsum(0.01 * rng.standard_normal((2, BARS)), axis=1)
    walks[1, -1] += 0.2  # a big last move, but no cointegration to revert to
    assert pairs_trading.run(pair_snapshot(walks[0], walks[1])) == []
