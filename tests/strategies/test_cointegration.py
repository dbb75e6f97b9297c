"""The numpy Engle–Granger against statsmodels' coint with the same fixed lag."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import coint

from strategies.cointegration import engle_granger, engle_granger_many, half_life_bars, mackinnon_p

BARS = 720


def pair(seed: int, noise: float, persistence: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(BARS))
    spread = np.zeros(BARS)
    for t in range(1, BARS):
        spread[t] = persistence * spread[t - 1] + noise * rng.standard_normal()
    return 0.3 + 0.8 * x + spread, x


def statsmodels_coint(y: np.ndarray, x: np.ndarray, lags: int) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its collinearity warning is irrelevant to the comparison
        t_stat, p_value, _ = coint(y, x, trend="c", maxlag=lags, autolag=None)
    return t_stat, p_value


@pytest.mark.parametrize("lags", [0, 1, 4])
@pytest.mark.parametrize(
    ("noise", "persistence"), [(1.0, 0.5), (1.0, 0.97), (1.0, 1.0), (0.1, 0.9)]
)
def test_matches_statsmodels(lags: int, noise: float, persistence: float) -> None:
    y, x = pair(seed=lags * 10 + int(persistence * 100), noise=noise, persistence=persistence)
    expected_t, expected_p = statsmodels_coint(y, x, lags)
    result = engle_granger(y, x, lags)
    assert result.t_stat == pytest.approx(expected_t, rel=1e-9)
    assert result.p_value == pytest.approx(expected_p, rel=1e-9, abs=1e-15)
    slope, intercept = np.polyfit(x, y, 1)
    assert result.hedge_ratio == pytest.approx(slope)
    assert result.intercept == pytest.approx(intercept)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-25.0, max_value=3.0, allow_nan=False))
def test_p_value_surface_matches_statsmodels(t_stat: float) -> None:
    assert mackinnon_p(t_stat) == pytest.approx(
        mackinnonp(t_stat, regression="c", N=2), rel=1e-12, abs=1e-300
    )


@pytest.mark.parametrize("lags", [0, 1, 3])
def test_many_pairs_at_once_match_one_at_a_time(lags: int) -> None:
    pairs = [pair(seed, noise, persistence) for seed, noise, persistence in
             [(1, 1.0, 0.5), (2, 1.0, 1.0), (3, 0.1, 0.9), (4, 1.0, 0.97)]]  # fmt: skip
    ys, xs = np.stack([y for y, _ in pairs]), np.stack([x for _, x in pairs])
    ys[3] = 0.3 + 0.8 * xs[3]  # perfectly collinear: -inf, p 0, as one at a time
    batch = engle_granger_many(ys, xs, lags)
    for index in range(len(pairs)):
        one = engle_granger(ys[index], xs[index], lags)
        assert batch.t_stats[index] == pytest.approx(one.t_stat, rel=1e-9)
        assert batch.p_values[index] == pytest.approx(one.p_value, rel=1e-9, abs=1e-15)
        assert batch.hedge_ratios[index] == pytest.approx(one.hedge_ratio)
        assert batch.intercepts[index] == pytest.approx(one.intercept)
        np.testing.assert_allclose(batch.residuals[index], one.residuals, atol=1e-9)


def test_half_life_of_an_ar1_spread() -> None:
    rng = np.random.default_rng(9)
    spread = np.zeros(20_000)
    for t in range(1, len(spread)):
        spread[t] = 0.9 * spread[t - 1] + rng.standard_normal()
    assert half_life_bars(spread) == pytest.approx(math.log(0.5) / math.log(0.9), rel=0.05)
    explosive = np.ones(500)
    for t in range(1, len(explosive)):
        explosive[t] = 1.01 * explosive[t - 1] + 0.01 * rng.standard_normal()
    assert half_life_bars(explosive) == math.inf  # it runs away: no half-life
    assert half_life_bars(np.ones(10)) == math.inf
