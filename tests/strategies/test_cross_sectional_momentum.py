import math

import numpy as np
import pytest

from strategies.rules import cross_sectional_momentum as csm
from tests.strategies.synthetic import (
    assert_accounted,
    assert_well_formed,
    candles,
    skip_of,
    snapshot,
)

BARS = 30 * 24 + 1
WIGGLE = 0.004  # hourly log-return alternation, so each series has a known volatility


def trending(drift: float) -> np.ndarray:
    returns = drift + WIGGLE * (-1.0) ** np.arange(BARS - 1)
    return candles(100.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)])), half_range=0.01)


def universe(*drifts: float) -> dict[str, np.ndarray]:
    return {f"C{i}/USDT": trending(drift) for i, drift in enumerate(drifts)}


def test_longs_the_top_and_shorts_the_bottom_with_sigma_levels() -> None:
    result = csm.run(snapshot(universe(0.002, 0.001, 0.0005, 0.0, -0.001, -0.003)))
    found = result.opportunities
    assert [(o.symbol, o.side) for o in found] == [("C0/USDT", "long"), ("C5/USDT", "short")]
    long, short = found
    sigma = np.std(WIGGLE * (-1.0) ** np.arange(BARS - 1), ddof=1)
    weekly = sigma * math.sqrt(7 * 24)
    assert long.stop == pytest.approx(long.entry * math.exp(-weekly))
    assert long.target == pytest.approx(long.entry * math.exp(1.5 * weekly))
    assert short.stop == pytest.approx(short.entry * math.exp(weekly))
    assert short.risk_reward == pytest.approx(
        (1 - math.exp(-1.5 * weekly)) / (math.exp(weekly) - 1), rel=1e-3
    )
    score = 0.002 * (BARS - 1) / (sigma * math.sqrt(BARS - 1))
    assert long.confidence == pytest.approx(0.35 + 0.65 * min(1.0, score / 2.0), abs=1e-4)
    assert f"score {score:+.2f}" in long.rationale and "ranked 1 of 6" in long.rationale
    assert long.horizon_bars == 7 * 24 and long.action == "open_long"
    for opportunity in found:
        assert_well_formed(opportunity)
    assert_accounted(result, [f"C{i}/USDT" for i in range(6)])
    assert skip_of(result, "C2/USDT").message.startswith("ranked 3 of 6 (score +")


def test_does_not_long_a_falling_leader() -> None:
    result = csm.run(snapshot(universe(-0.0001, -0.001, -0.0015, -0.002, -0.0025)))
    assert [(o.symbol, o.side) for o in result.opportunities] == [("C4/USDT", "short")]
    assert skip_of(result, "C0/USDT").message.startswith("ranked 1 of 5 but its score -")


def test_silent_on_a_small_universe() -> None:
    found = csm.run(snapshot(universe(0.002, 0.0, -0.002)))
    assert found.opportunities == [] and found.evaluated == 3
    assert {skip.code for skip in found.skipped} == {"too_few_symbols"}
    assert skip_of(found, "C0/USDT").message == "3 of 5 symbols with 30 days of history to rank"


def test_skips_a_short_history() -> None:
    series = universe(0.002, 0.001, 0.0005, 0.0, -0.001, -0.003)
    series["C6/USDT"] = trending(0.001)[-100:]
    found = csm.run(snapshot(series))
    assert skip_of(found, "C6/USDT").message == "100 of 721 hourly candles"
    assert_accounted(found, list(series))
