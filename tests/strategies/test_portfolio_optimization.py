from collections.abc import Callable

import numpy as np
import pytest

from strategies import portfolio as pf
from strategies.market_data import MarketSnapshot
from strategies.rules import portfolio_optimization as po
from tests.strategies.synthetic import (
    assert_well_formed,
    daily_closes,
    from_log_returns,
    skip_of,
    snapshot,
)

HOURS = 95 * 24
SIGMAS = (0.002, 0.004, 0.008)  # hourly volatility of the three coins: 1 : 2 : 4


def three_coins() -> tuple[dict[str, np.ndarray], MarketSnapshot]:
    rng = np.random.default_rng(11)
    series = {
        f"C{i}/USDT": from_log_returns(sigma * rng.standard_normal(HOURS))
        for i, sigma in enumerate(SIGMAS)
    }
    equal_value = {symbol: 1000.0 / bars[-1, 4] for symbol, bars in series.items()}
    return series, snapshot(series, holdings=equal_value)


def expected_targets(
    series: dict[str, np.ndarray], solve: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    closes = np.column_stack([daily_closes(bars, 91) for bars in series.values()])
    covariance, _ = pf.ledoit_wolf(np.diff(np.log(closes), axis=0))
    return solve(covariance)


def test_rebalances_equal_holdings_toward_risk_parity() -> None:
    series, snap = three_coins()
    targets = expected_targets(series, pf.risk_parity)
    # Uncorrelated coins with volatility 1:2:4 get risk-parity weights near 4:2:1.
    assert targets == pytest.approx(np.array([4, 2, 1]) / 7, abs=0.05)
    found = po.run(snap).opportunities
    assert [(o.symbol, o.side) for o in found] == [
        ("C0/USDT", "long"),
        ("C1/USDT", "short"),
        ("C2/USDT", "short"),
    ]
    for opportunity, target in zip(found, targets, strict=True):
        assert f"risk parity weight {target:.1%} vs held 33.3%" in opportunity.rationale
        assert opportunity.entry == pytest.approx(series[opportunity.symbol][-1, 4])
        assert (opportunity.action, opportunity.order_type) == ("rebalance", "market")
        assert opportunity.stop is None and opportunity.target is None
        assert opportunity.horizon_bars == 14 * 24
        assert_well_formed(opportunity)
    drift = targets[0] - 1 / 3
    assert found[0].confidence == pytest.approx(0.3 + 0.7 * min(1.0, drift / 0.10), abs=1e-4)
    # One idea: every trade is a leg, its ratio the share of the portfolio it moves.
    assert len({o.group_id for o in found}) == 1 and found[0].group_id is not None
    legs = found[0].legs
    assert [(leg.symbol, leg.side) for leg in legs] == [(o.symbol, o.side) for o in found]
    assert [leg.ratio for leg in legs] == pytest.approx(list(np.abs(targets - 1 / 3)), rel=1e-6)


def test_minimum_variance_on_request() -> None:
    series, snap = three_coins()
    targets = expected_targets(series, pf.minimum_variance)
    found = po.run(snap, po.Params(method="minimum_variance")).opportunities
    assert f"minimum variance weight {targets[0]:.1%}" in found[0].rationale


def test_silent_when_holdings_are_on_target() -> None:
    series, _ = three_coins()
    targets = expected_targets(series, pf.risk_parity)
    on_target = {
        s: 1000.0 * w / bars[-1, 4] for (s, bars), w in zip(series.items(), targets, strict=True)
    }
    found = po.run(snapshot(series, holdings=on_target))
    assert found.opportunities == [] and found.evaluated == 3
    assert skip_of(found, "C0/USDT").message == (
        f"weight {targets[0]:.1%} vs target {targets[0]:.1%}: within ±2%"
    )


def test_silent_without_holdings() -> None:
    series, _ = three_coins()
    found = po.run(snapshot(series))
    assert found.opportunities == [] and found.evaluated == 1
    assert skip_of(found, "*").code == "no_holdings"
    assert skip_of(found, "*").message == "0 priced holdings; a rebalance needs 2"
