import numpy as np
import pytest

from strategies.rules import risk_management as rm
from tests.strategies.synthetic import (
    assert_accounted,
    assert_quiet,
    assert_well_formed,
    daily_closes,
    from_log_returns,
    skip_of,
    snapshot,
)

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
    result = rm.run(snapshot(series, holdings=holdings_for(series)))
    found = result.opportunities
    quantities = np.array(list(holdings_for(series).values()))
    values = np.column_stack([daily_closes(bars, 91) for bars in series.values()]) @ quantities
    drawdown = 1 - values[-1] / values.max()
    assert drawdown > 0.20
    [cut] = found  # A drives the tail; B, the quiet one, is kept
    assert (cut.symbol, cut.side) == ("A/USDT", "short")
    # Selling now: a reduction of a holding, with no stop or target.
    assert (cut.action, cut.order_type, cut.horizon_bars) == ("reduce", "market", 24)
    assert cut.stop is None and cut.target is None and cut.levels_note
    assert cut.entry == pytest.approx(series["A/USDT"][-1, 4])
    assert f"drawdown {drawdown:.1%}" in cut.rationale
    assert_well_formed(cut)
    assert_quiet(skip_of(result, "B/USDT"), "of the tail loss, within its equal share 50%")
    assert_accounted(result, ["A/USDT", "B/USDT"])


def test_tightens_stops_on_a_correlation_spike() -> None:
    rng = np.random.default_rng(6)
    independent = 0.002 * rng.standard_normal((2, HOURS))
    common = 0.002 * rng.standard_normal(7 * 24)
    independent[:, -7 * 24 :] = common  # the last week both coins move as one
    series = {
        "A/USDT": from_log_returns(independent[0]),
        "B/USDT": from_log_returns(independent[1]),
    }
    found = rm.run(snapshot(series, holdings=holdings_for(series))).opportunities
    # A protective sell stop on each holding: its trigger is the entry.
    assert [(o.symbol, o.side) for o in found] == [("A/USDT", "short"), ("B/USDT", "short")]
    for opportunity, bars in zip(found, series.values(), strict=True):
        losses = -np.expm1(np.diff(np.log(daily_closes(bars, 91))))
        var = np.quantile(losses, 0.95)
        assert opportunity.entry == pytest.approx(bars[-1, 4] * (1 - 0.5 * var))
        assert (opportunity.action, opportunity.order_type) == ("reduce", "stop")
        assert opportunity.stop is None and opportunity.target is None
        assert opportunity.horizon_bars == 7 * 24
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
    result = rm.run(snapshot(series, holdings=holdings_for(series)))
    found = result.opportunities
    assert [(o.symbol, o.side) for o in found] == [("B/USDT", "short")]
    assert_well_formed(found[0])
    assert_quiet(skip_of(result, "A/USDT"), "no down days")


def test_silent_for_a_calm_diversified_book() -> None:
    rng = np.random.default_rng(8)
    series = {f"{name}/USDT": from_log_returns(0.002 * rng.standard_normal(HOURS)) for name in "AB"}
    found = rm.run(snapshot(series, holdings=holdings_for(series)))
    assert found.opportunities == [] and found.evaluated == 1
    assert_quiet(skip_of(found, "*"), "portfolio 1-day VaR95%", "(limit 6%)", "drawdown")


def test_skips_without_holdings_or_history() -> None:
    rng = np.random.default_rng(8)
    series = {f"{name}/USDT": from_log_returns(0.002 * rng.standard_normal(HOURS)) for name in "AB"}
    nothing_held = rm.run(snapshot(series))
    assert skip_of(nothing_held, "*").code == "no_holdings"
    short = {symbol: bars[-20 * 24 :] for symbol, bars in series.items()}
    too_short = rm.run(snapshot(short, holdings=holdings_for(short)))
    assert skip_of(too_short, "*").message == "20 of 31 daily candles"
    assert skip_of(too_short, "*").code == "insufficient_history"
