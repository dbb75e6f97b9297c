"""Every catalogue strategy, through its catalogue entry, fires on a market built
for it and stays silent on one built not to qualify.

The bundled data is drawn from a stochastic model with nothing planted (most
strategies find nothing at its last bar), so it cannot show that a strategy can
fire at all: these constructed markets do, one pair per strategy. A strategy
added to the catalogue without its pair fails the first test. The per-strategy
modules check the levels and wording; here only "fires" and "silent" are checked,
on the production entry point a scan calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from strategies import portfolio as pf
from strategies.catalog import CATALOG
from strategies.market_data import MarketSnapshot
from strategies.registry import StrategySpec
from tests.strategies import (
    test_breakout,
    test_cross_sectional_momentum,
    test_funding_carry,
    test_grid,
    test_hedging,
    test_market_making,
    test_mean_reversion,
    test_pairs_trading,
    test_portfolio_optimization,
    test_risk_management,
    test_scalping,
    test_swing,
    test_trend_momentum,
)
from tests.strategies.synthetic import (
    FIVE_MIN_MS,
    assert_well_formed,
    candles,
    from_log_returns,
    opportunities_of,
    path,
    snapshot,
    zigzag,
)

SYMBOL = "AAA/USDT"


@dataclass(frozen=True)
class Cases:
    fires: Callable[[], MarketSnapshot]
    silent: Callable[[], MarketSnapshot]


def one(bars: np.ndarray, **extra: object) -> MarketSnapshot:
    return snapshot({SYMBOL: bars}, **extra)  # type: ignore[arg-type]


def five_minute(bars: np.ndarray, market: dict[str, object]) -> MarketSnapshot:
    return snapshot(candles_5m={SYMBOL: bars}, markets={SYMBOL: market})


def quiet_market(last_half_range: float) -> MarketSnapshot:
    """2000 ranging hours whose last 30 have ``last_half_range`` (1.0 is ordinary)."""
    bars = 2000
    half_range = np.concatenate([np.full(bars - 30, 1.0), np.full(30, last_half_range)])
    return one(candles(zigzag(bars, 0.05), half_range=half_range))


def book_in_drawdown(fall_per_hour: float) -> MarketSnapshot:
    """Two holdings; the volatile one falls ``fall_per_hour`` over the last 30 days."""
    hours = test_risk_management.HOURS
    rng = np.random.default_rng(5)
    fall = np.concatenate([np.zeros(hours - 30 * 24), np.full(30 * 24, fall_per_hour)])
    series = {
        "A/USDT": from_log_returns(fall + 0.004 * rng.standard_normal(hours)),
        "B/USDT": from_log_returns(0.2 * fall + 0.001 * rng.standard_normal(hours)),
    }
    return snapshot(series, holdings=test_risk_management.holdings_for(series))


def portfolio(on_target: bool) -> MarketSnapshot:
    series, equal_value = test_portfolio_optimization.three_coins()
    if not on_target:
        return equal_value
    targets = test_portfolio_optimization.expected_targets(series, pf.risk_parity)
    holdings = {
        s: 1000.0 * w / bars[-1, 4] for (s, bars), w in zip(series.items(), targets, strict=True)
    }
    return snapshot(series, holdings=holdings)


def carry(rate: float, premium_level: float) -> MarketSnapshot:
    bars = test_funding_carry.BARS
    premium = premium_level + zigzag(bars, 0.0001, level=0.0)
    return test_funding_carry.carry_snapshot(rate=rate, premium=premium)


CASES: dict[str, Cases] = {
    "trend_momentum": Cases(
        fires=lambda: one(test_trend_momentum.uptrend_then_fresh_cross()),
        silent=lambda: one(candles(path((300, 0.3)))),
    ),
    "cross_sectional_momentum": Cases(
        fires=lambda: snapshot(
            test_cross_sectional_momentum.universe(0.002, 0.001, 0.0005, 0.0, -0.001, -0.003)
        ),
        silent=lambda: snapshot(test_cross_sectional_momentum.universe(0.002, 0.0, -0.002)),
    ),
    "mean_reversion": Cases(
        fires=lambda: one(test_mean_reversion.flat_then_selloff()),
        silent=lambda: one(candles(zigzag(80, 0.1))),
    ),
    "breakout": Cases(
        fires=lambda: one(test_breakout.squeeze_then_breakout(surge_volume=2250.0)),
        silent=lambda: one(test_breakout.squeeze_then_breakout(surge_volume=1200.0)),
    ),
    "scalping": Cases(
        fires=lambda: five_minute(test_scalping.v_back_through_vwap(), test_scalping.CHEAP),
        silent=lambda: five_minute(
            candles(path((400, 0.05)), step_ms=FIVE_MIN_MS), test_scalping.CHEAP
        ),
    ),
    "swing": Cases(
        fires=lambda: one(test_swing.uptrend_pullback()[1]),
        silent=lambda: one(test_swing.uptrend_pullback(last_day=-0.5)[1]),
    ),
    "pairs_trading": Cases(
        fires=lambda: test_pairs_trading.pair_snapshot(
            *test_pairs_trading.cointegrated(z_shock=2.8)
        ),
        silent=lambda: test_pairs_trading.pair_snapshot(
            *test_pairs_trading.cointegrated(z_shock=0.5)
        ),
    ),
    "funding_carry": Cases(
        fires=lambda: carry(rate=0.0005, premium_level=0.0005),
        silent=lambda: carry(rate=0.0001, premium_level=0.0001),
    ),
    "market_making": Cases(
        fires=lambda: five_minute(test_market_making.quoted_bars(), {"maker": 0.001}),
        silent=lambda: five_minute(test_market_making.quoted_bars(), {"maker": 0.0025}),
    ),
    "volatility_regime": Cases(
        fires=lambda: quiet_market(last_half_range=0.1),
        silent=lambda: quiet_market(last_half_range=1.0),
    ),
    "grid": Cases(
        fires=lambda: one(test_grid.ranging(), markets={SYMBOL: test_grid.FEES}),
        silent=lambda: one(candles(path((300, 0.3))), markets={SYMBOL: test_grid.FEES}),
    ),
    "portfolio_optimization": Cases(
        fires=lambda: portfolio(on_target=False),
        silent=lambda: portfolio(on_target=True),
    ),
    "risk_management": Cases(
        fires=lambda: book_in_drawdown(fall_per_hour=-0.0007),
        silent=lambda: book_in_drawdown(fall_per_hour=0.0),
    ),
    "hedging": Cases(
        fires=lambda: test_hedging.book(beta=1.6)[2],
        silent=lambda: test_hedging.book(beta=0.5)[2],
    ),
}


def name_of(spec: StrategySpec) -> str:
    return spec.name


def test_every_catalogue_strategy_has_its_constructed_cases() -> None:
    assert set(CASES) == {spec.name for spec in CATALOG}


@pytest.mark.parametrize("spec", CATALOG, ids=name_of)
def test_fires_on_the_market_built_for_it(spec: StrategySpec) -> None:
    market = CASES[spec.name].fires()
    found = opportunities_of(spec.run(market))
    assert found, spec.name
    for opportunity in found:
        assert opportunity.strategy == spec.name
        assert opportunity.data_source == market.source
        assert_well_formed(opportunity)


@pytest.mark.parametrize("spec", CATALOG, ids=name_of)
def test_silent_on_the_market_built_not_to_qualify(spec: StrategySpec) -> None:
    assert opportunities_of(spec.run(CASES[spec.name].silent())) == []
