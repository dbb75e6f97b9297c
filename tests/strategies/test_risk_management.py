import numpy as np
import pytest

from strategies.rules import risk_management as rm
from tests.strategies.synthetic import assert_well_formed, daily_closes, from_log_returns, snapshot

HOURS = 95 * 24


def holdings_for(series: dict[str, np.ndarray]) -> dict[str, float]:
    return {symbol: 1000.0 / bars[-1, 4] for symbol, bars in series.items()}


def test_derisks_after_a_deep_drawdown() -> None:
    rng = np.random.default_rng(5)
    fall = np.concatenate([np.zeros(HOURS - 30 * 24), np.full(30 * 24, -0.0007)])
    series = {
        "A/USDT": from_log_returns(fall + 0.004 * rng.standard_normal(HOURS)),
        "B/USDT": from_log_returns(0.2 * fall + 0.001 * rng.standard_normal(HOURS)),
    }
    found = rm.run(snapshot(series, holdings=holdings_for(series)))
    quantities = np.array(list(holdings_for(series).values()))
    values = np.column_stack([daily_closes(bars, 91) for bars in series.values()]) @ quantities
    drawdown = 1 - values[-1] / values.max()
    assert drawdown > 0.20
    [cut] = found  # A drives the tail; B, the quiet one, is kept
    assert (cut.symbol, cut.side) == ("A/USDT", "short")
    returns = np.expm1(np.diff(np.log(daily_closes(series["A/USDT"], 91))))
    var_a = max(np.quantile(-returns, 0.95), 0.0)
    assert cut.stop >= cut.entry * (1 + var_a) * (1 - 1e-9)
    assert f"drawdown {drawdown:.1%}" in cut.rationale
    assert_well_formed(cut)


def test_tightens_stops_on_a_correlation_spike() -> None:
    rng = np.random.default_rng(6)
    independent = 0.002 * rng.standard_normal((2, HOURS))
    common = 0.002 * rng.standard_normal(7 * 24)
    independent[:, -7 * 24 :] = common  # the last week both coins move as one
    series = {
        "A/USDT": from_log_returns(independent[0]),
        "B/USDT": from_log_returns(independent[1]),
    }
    found = rm.run(snapshot(series, holdings=holdings_for(series)))
    assert [(o.symbol, o.side) for o in found] == [("A/USDT", "long"), ("B/USDT", "long")]
    for opportunity, bars in zip(found, series.values(), strict=True):
        losses = -np.expm1(np.diff(np.log(daily_closes(bars, 91))))
        var = np.quantile(losses, 0.95)
        assert opportunity.stop == pytest.approx(opportunity.entry * (1 - 0.5 * var))
        assert opportunity.target == pytest.approx(opportunity.entry * (1 + var))
        assert "tighten the stop" in opportunity.rationale
        assert_well_formed(opportunity)


def test_a_holding_whose_worst_days_were_gains_gets_no_stop() -> None:
    # A rises every day (its 95 % daily "loss" is a gain): a stop "half a VaR
    # under the price" would sit above it. Only B's stop is tightened.
    rng = np.random.default_rng(6)
    independent = 0.002 * rng.standard_normal((2, HOURS))
    common = 0.002 * rng.standard_normal(7 * 24)
    independent[:, -7 * 24 :] = common
    independent[0] = 0.003 + 0.1 * independent[0]
    series = {
        "A/USDT": from_log_returns(independent[0]),
        "B/USDT": from_log_returns(independent[1]),
    }
    losses_a = -np.expm1(np.diff(np.log(daily_closes(series["A/USDT"], 91))))
    assert np.quantile(losses_a, 0.95) < 0
    found = rm.run(snapshot(series, holdings=holdings_for(series)))
    assert [(o.symbol, o.side) for o in found] == [("B/USDT", "long")]
    assert_well_formed(found[0])


def test_silent_for_a_calm_diversified_book() -> None:
    rng = np.random.default_rng(8)
    series = {f"{name}/USDT": from_log_returns(0.002 * rng.standard_normal(HOURS)) for name in "AB"}
    assert rm.run(snapshot(series, holdings=holdings_for(series))) == []
