"""Whatever the market, every opportunity of every strategy is well formed:
stop and target on the right sides of entry, confidence in [0, 1], finite numbers."""

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies.catalog import CATALOG
from strategies.findings import Skip, SkipCode
from strategies.market_data import MarketSnapshot
from strategies.rules import (
    breakout,
    hedging,
    market_making,
    mean_reversion,
    pairs_trading,
    swing,
    trend_momentum,
)
from tests.strategies.synthetic import (
    END_MS,
    FIVE_MIN_MS,
    HOUR_MS,
    assert_accounted,
    assert_well_formed,
    candles,
    path,
    zigzag,
)
from tests.strategies.test_hedging import book
from tests.strategies.test_market_making import quoted_bars
from tests.strategies.test_pairs_trading import cointegrated, pair_snapshot

HOURS = 210 * 24
PORTFOLIO_RULES = {"portfolio_optimization", "risk_management", "hedging"}
SYMBOLS = ("BTC/USDT", "ETH/USDT", "AAA/USDT", "BBB/USDT", "CCC/USDT", "DDD/USDT")
# Derandomized: CI runs the same cases every time (a random search once found a
# real bug mid-CI, a risk_management stop above entry; fixed, and these cases
# include markets with strong drift). `HYPOTHESIS_PROFILE` is not consulted.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def random_bars(
    rng: np.random.Generator,
    count: int,
    step_ms: int,
    scale: float,
    sigma: float,
    drift: float,
    market: np.ndarray,
) -> np.ndarray:
    returns = (
        drift
        + market[:count]
        + sigma * rng.standard_normal(count) * rng.choice([0.2, 1.0, 3.0], count)
    )
    close = scale * np.exp(np.cumsum(returns))
    reach = np.abs(rng.standard_normal((2, count))) * sigma * close
    bars = candles(close, half_range=reach[0], volume=rng.lognormal(5, 1, count), step_ms=step_ms)
    bars[:, 3] = np.minimum(bars[:, 1], close) - reach[1]
    bars[:, 3] = np.maximum(bars[:, 3], 1e-3 * close)
    return bars


def exchange_side(
    rng: np.random.Generator, hourly: dict[str, np.ndarray], scale: float
) -> dict[str, Any]:
    """Random perps, funding, fees and holdings around the hourly bars."""
    funding_stamps = END_MS - 8 * HOUR_MS * np.arange(HOURS // 8)[::-1]
    return {
        "perp_1h": {
            s: np.column_stack([b[:, 0], b[:, 4] * (1 + rng.normal(0.0003, 0.001, HOURS))])
            for s, b in hourly.items()
        },
        "funding": {
            s: np.column_stack([funding_stamps, rng.normal(0.0002, 0.0004, HOURS // 8)])
            for s in SYMBOLS
        },
        "markets": {
            s: {
                "maker": rng.choice([0.0, 0.0002, 0.001]),
                "taker": rng.choice([0.0001, 0.0005, 0.002]),
                "precision": {"price": scale * 1e-6},
            }
            for s in SYMBOLS
        },
        "holdings": {s: float(rng.uniform(0, 5) * 1000 / hourly[s][-1, 4]) for s in SYMBOLS[::2]},
    }


def random_snapshot(seed: int, scale: float, sigma: float, drift: float) -> MarketSnapshot:
    rng = np.random.default_rng(seed)
    market = sigma * rng.standard_normal(HOURS)
    hourly = {
        s: random_bars(
            rng,
            HOURS,
            HOUR_MS,
            scale * rng.uniform(0.1, 10),
            sigma,
            drift * rng.uniform(-1, 2),
            market,
        )
        for s in SYMBOLS
    }
    five = {
        s: random_bars(rng, 400, FIVE_MIN_MS, hourly[s][-1, 4], sigma / 3, 0.0, market / 3)
        for s in SYMBOLS[:2]
    }
    return MarketSnapshot(
        source="hypothesis",
        as_of_ms=END_MS,
        symbols=SYMBOLS,
        candles_1h=hourly,
        candles_5m=five,
        **exchange_side(rng, hourly, scale),
    )


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-4, 0.5, 30.0, 60_000.0]),
    sigma=st.floats(0.001, 0.03),
    drift=st.floats(-0.002, 0.002),
)
def test_every_strategy_on_random_markets(
    seed: int, scale: float, sigma: float, drift: float
) -> None:
    snap = random_snapshot(seed, scale, sigma, drift)
    ids = []
    for spec in CATALOG:
        found = spec.run(snap)
        assert {skip.code for skip in found.skipped} <= set(SkipCode)
        if spec.name not in PORTFOLIO_RULES:  # they count holdings, or the portfolio as one
            assert_accounted(found, SYMBOLS)
        for opportunity in found.opportunities:
            assert opportunity.strategy == spec.name and opportunity.data_source == "hypothesis"
            assert_well_formed(opportunity)
            ids.append(opportunity.opportunity_id)
    assert len(ids) == len(set(ids))  # unique inside one scan's results


TEMPLATES = {
    "trend": (trend_momentum, path((200, 0.3), (12, -0.2), (9, 0.4))),
    "selloff": (
        mean_reversion,
        np.concatenate([zigzag(60, 0.1), path((5, -0.5), start=100.0)[1:]]),
    ),
    "breakout": (breakout, np.concatenate([zigzag(300, 2.0), zigzag(120, 0.05), [100.6]])),
    "pullback": (swing, np.repeat(path((240, 0.3), (3, -1.6), (1, 0.5)), 24)),
}


@SETTINGS
@given(
    template=st.sampled_from(sorted(TEMPLATES)),
    scale=st.floats(1e-5, 1e5),
    noise=st.floats(0.0, 0.01),
    seed=st.integers(0, 2**16),
)
def test_firing_setups_at_any_price_scale(
    template: str, scale: float, noise: float, seed: int
) -> None:
    module, closes = TEMPLATES[template]
    rng = np.random.default_rng(seed)
    jittered = closes * np.exp(noise * rng.standard_normal(len(closes))) * scale / 100
    found = module.evaluate("X/USDT", candles(jittered, half_range=jittered * 0.004), source="t")
    if not isinstance(found, Skip):
        assert_well_formed(found)


@SETTINGS
@given(seed=st.integers(0, 2**16), z_shock=st.floats(-5.0, 5.0), scale=st.floats(1e-4, 1e4))
def test_pairs_at_any_shock(seed: int, z_shock: float, scale: float) -> None:
    log_x, log_y = cointegrated(z_shock, seed)
    for opportunity in pairs_trading.run(pair_snapshot(log_x + np.log(scale), log_y)).opportunities:
        assert_well_formed(opportunity)


@SETTINGS
@given(spread=st.floats(0.0, 0.05), maker=st.floats(0.0, 0.01), scale=st.floats(1e-4, 1e5))
def test_market_making_at_any_spread(spread: float, maker: float, scale: float) -> None:
    bars = quoted_bars()
    bars[:, 1:5] *= scale / 100
    mid = bars[:, 4]
    bars[:, 2], bars[:, 3] = mid * (1 + spread / 2 + 0.001), mid * (1 - spread / 2 - 0.001)
    found = market_making.evaluate("A/USDT", bars, {"maker": maker}, source="t")
    for opportunity in [] if isinstance(found, Skip) else found:
        assert_well_formed(opportunity)


@SETTINGS
@given(beta=st.floats(-1.0, 4.0))
def test_hedging_at_any_beta(beta: float) -> None:
    _, _, snap = book(beta)
    for opportunity in hedging.run(snap).opportunities:
        assert_well_formed(opportunity)
