import math
import warnings

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import coint

from strategies.fdr import benjamini_hochberg
from strategies.market_data import MarketSnapshot
from strategies.rules import pairs_trading
from tests.strategies.synthetic import (
    assert_accounted,
    assert_quiet,
    assert_well_formed,
    candles,
    skip_of,
    snapshot,
)

BARS = 30 * 24
RATIO, ANCHOR = 1.2, 0.5


def cointegrated(
    z_shock: float, seed: int = 7, persistence: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """log x a random walk; log y = ANCHOR + RATIO·log x + an AR(1) spread.

    The spread's last value sits ``z_shock`` of its sigmas out.
    """
    rng = np.random.default_rng(seed)
    log_x = np.log(100.0) + np.cumsum(0.01 * rng.standard_normal(BARS))
    spread = np.zeros(BARS)
    for t in range(1, BARS):
        spread[t] = persistence * spread[t - 1] + 0.004 * rng.standard_normal()
    spread[-1] = z_shock * spread[:-1].std()
    return log_x, ANCHOR + RATIO * log_x + spread


def pair_snapshot(log_x: np.ndarray, log_y: np.ndarray) -> MarketSnapshot:
    return snapshot(
        {
            "X/USDT": candles(np.exp(log_x), half_range=0.0),
            "Y/USDT": candles(np.exp(log_y), half_range=0.0),
        }
    )


def random_walks(seed: int, count: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    logs = np.log(100.0) + np.cumsum(0.01 * rng.standard_normal((count, BARS)), axis=1)
    return {f"W{i:03d}/USDT": candles(np.exp(row), half_range=0.0) for i, row in enumerate(logs)}


def screen_of(series: dict[str, np.ndarray]) -> pairs_trading.Screen:
    logs = np.log(np.stack([bars[:, 4] for bars in series.values()]))
    return pairs_trading.screen(list(series), logs, pairs_trading.DEFAULTS)


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
    z, _, slope = expected_levels(log_x, log_y)
    assert 2.0 < z < 3.5
    findings = pairs_trading.run(pair_snapshot(log_x, log_y))
    [found] = findings.opportunities
    price = math.exp(log_y[-1])
    assert (found.symbol, found.side, found.action) == ("Y/USDT", "short", "open_short")
    assert found.entry == pytest.approx(price)
    # A pair exits on its spread's z-score: no price levels, the exits in the note.
    assert found.stop is None and found.target is None
    assert found.levels_note == (
        f"a pair exits on its spread's z-score, not a price: take profit at z 0, "
        f"stop at |z| 3.5 (now {z:+.2f})"
    )
    # One pair tested: its q-value is its p-value.
    assert found.confidence == pytest.approx(0.4 + 0.6 * (1 - p_value / 0.05), abs=1e-3)
    assert f"{slope:.2f}x X/USDT" in found.rationale and f"z={z:+.2f}" in found.rationale
    assert found.group_id == "pairs_trading:Y/USDT~X/USDT"
    assert found.opportunity_id == "pairs_trading:Y/USDT:short:X/USDT"
    dependent, hedge = found.legs
    assert (dependent.symbol, dependent.side, dependent.ratio) == ("Y/USDT", "short", 1.0)
    assert (hedge.symbol, hedge.side) == ("X/USDT", "long")
    assert hedge.ratio == pytest.approx(slope) and hedge.price == pytest.approx(math.exp(log_x[-1]))
    assert found.horizon_bars == 120
    assert_well_formed(found)
    assert findings.evaluated == 2 and findings.skipped == []  # both symbols are in the trade


def test_buys_the_cheap_leg() -> None:
    [found] = pairs_trading.run(pair_snapshot(*cointegrated(z_shock=-2.8))).opportunities
    assert found.side == "long"
    assert [leg.side for leg in found.legs] == ["long", "short"]
    assert_well_formed(found)


def test_silent_past_the_stop() -> None:
    found = pairs_trading.run(pair_snapshot(*cointegrated(z_shock=8.0)))
    assert found.opportunities == []
    assert_quiet(skip_of(found, "Y/USDT"), "cointegrated; spread z +", "outside 2 < |z| < 3.5")
    assert_accounted(found, ["X/USDT", "Y/USDT"])


def test_silent_for_independent_walks() -> None:
    rng = np.random.default_rng(3)
    walks = np.log(100.0) + np.cumsum(0.01 * rng.standard_normal((2, BARS)), axis=1)
    walks[1, -1] += 0.2  # a big last move, but no cointegration to revert to
    found = pairs_trading.run(pair_snapshot(walks[0], walks[1]))
    assert found.opportunities == []
    assert_quiet(skip_of(found, "X/USDT"), "not cointegrated at a 5% false discovery rate")


def test_a_slow_spread_is_not_traded_within_a_short_horizon() -> None:
    snap = pair_snapshot(*cointegrated(z_shock=2.8))
    half_life = math.log(0.5) / math.log(0.7)  # the spread's AR(1) coefficient is 0.7
    found = pairs_trading.run(snap, pairs_trading.Params(horizon_bars=1))
    assert found.opportunities == []
    skip = assert_quiet(skip_of(found, "Y/USDT"), "half-life", "past the 1 h horizon")
    assert f"half-life {half_life:.0f} h" in skip.message
    assert pairs_trading.run(snap).opportunities  # within the default 120 h it trades


def test_fdr_holds_over_many_independent_walks() -> None:
    """Forty random walks, about 150 pairs tested each time: at a 5 % false discovery
    rate the large majority of seeds reports no pair, where a plain p < 0.05 reports
    some in nearly every seed. (Measured over 100 seeds: 10 with a discovery; the
    pairs share symbols, so their tests are not independent and the rate of any
    false discovery runs above the nominal 5 %.)"""
    screens = [screen_of(random_walks(seed, 40)) for seed in range(50)]
    with_discoveries = sum(bool(found.discoveries.any()) for found in screens)
    naive = sum(bool((found.tests.p_values < 0.05).any()) for found in screens)
    assert with_discoveries <= 7, with_discoveries  # at most 14 % of seeds
    assert naive >= 45, naive  # what BH protects against


def test_a_planted_pair_is_found_among_random_walks() -> None:
    series = random_walks(seed=11, count=30)
    log_x, log_y = cointegrated(z_shock=2.8, seed=12)
    series["X/USDT"] = candles(np.exp(log_x), half_range=0.0)
    series["Y/USDT"] = candles(np.exp(log_y), half_range=0.0)
    found = screen_of(series)
    labels = [pairs_trading.pair_label(found, pair) for pair in np.flatnonzero(found.discoveries)]
    assert labels == ["Y/USDT~X/USDT"]
    findings = pairs_trading.run(snapshot(series))
    assert [o.group_id for o in findings.opportunities] == ["pairs_trading:Y/USDT~X/USDT"]
    assert_accounted(findings, list(series))


def test_tests_at_most_five_partners_per_symbol() -> None:
    series = random_walks(seed=5, count=200)
    found = screen_of(series)
    assert len(found.q_values) <= 5 * 200
    partners = np.bincount(np.concatenate([found.dependents, found.hedges]), minlength=200)
    assert partners.min() >= 5  # every symbol is tested against its five nearest


def test_skips_short_histories() -> None:
    log_x, log_y = cointegrated(z_shock=2.8)
    series = {
        "X/USDT": candles(np.exp(log_x), half_range=0.0),
        "Y/USDT": candles(np.exp(log_y[-500:]), half_range=0.0),
    }
    found = pairs_trading.run(snapshot(series))
    assert skip_of(found, "Y/USDT").message == "500 of 720 hourly candles"
    assert_quiet(skip_of(found, "X/USDT"), "no other symbol with the history")
    assert_accounted(found, list(series))


def test_benjamini_hochberg_matches_statsmodels() -> None:
    rng = np.random.default_rng(2)
    p_values = np.concatenate([rng.uniform(size=80), rng.uniform(0, 0.002, size=20)])
    discoveries, q_values = benjamini_hochberg(p_values, 0.05)
    expected_reject, expected_q, *_ = multipletests(p_values, alpha=0.05, method="fdr_bh")
    assert discoveries.tolist() == expected_reject.tolist()
    assert q_values == pytest.approx(expected_q)
    assert 20 <= discoveries.sum() < 30
