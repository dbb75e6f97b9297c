import numpy as np
import pytest

from strategies.market_data import MarketSnapshot
from strategies.rules import funding_carry
from tests.strategies.synthetic import (
    END_MS,
    HOUR_MS,
    assert_well_formed,
    candles,
    snapshot,
    zigzag,
)

BARS = 800
FEES = {"taker": 0.0005}


def carry_snapshot(rate: float, premium: np.ndarray) -> MarketSnapshot:
    spot = candles(np.full(BARS, 100.0), half_range=0.1)
    perp = np.column_stack([spot[:, 0], spot[:, 4] * (1 + premium)])
    stamps = END_MS - 8 * HOUR_MS * np.arange(30)[::-1]
    funding = np.column_stack([stamps, np.full(30, rate)])
    return snapshot(
        {"A/USDT": spot},
        perp_1h={"A/USDT": perp},
        funding={"A/USDT": funding},
        markets={"A/USDT": FEES},
    )


def test_fires_when_annual_funding_clears_fees_and_threshold() -> None:
    premium = 0.0005 + zigzag(BARS, 0.0001, level=0.0)
    [found] = funding_carry.run(carry_snapshot(rate=0.0005, premium=premium))
    annual = 0.0005 * 3 * 365
    net = annual - 4 * 0.0005 * 365 / 14
    sigma = premium[-720:].std(ddof=1)
    assert found.side == "long" and found.entry == pytest.approx(100.0)
    assert found.target == pytest.approx(100.0 * (1 + net * 14 / 365))
    assert found.stop == pytest.approx(100.0 * (1 - 3 * max(sigma, abs(premium[-1]))))
    assert found.confidence == 1.0  # net ~50 % a year is past the 30 % "full" mark
    assert f"funding {annual:.1%} a year, {net:.1%} after 4 taker fees" in found.rationale
    assert_well_formed(found)


def test_fires_on_a_rich_premium_even_with_ordinary_funding() -> None:
    premium = zigzag(BARS, 0.0001, level=0.0001)
    premium[-1] = 0.0008  # far above its 30-day range
    [found] = funding_carry.run(carry_snapshot(rate=0.0001, premium=premium))
    window = premium[-720:]
    z = (window[-1] - window.mean()) / window.std(ddof=1)
    assert z > 2
    net_over_holding = (0.0001 * 3 * 365 - 4 * 0.0005 * 365 / 14) * 14 / 365
    # The target is the larger gain: the carry over the holding, or the premium's reversion.
    assert found.target == pytest.approx(
        100.0 * (1 + max(net_over_holding, z * window.std(ddof=1)))
    )
    assert f"z {z:+.2f}" in found.rationale
    assert_well_formed(found)


def test_silent_when_fees_eat_the_carry() -> None:
    premium = zigzag(BARS, 0.0001, level=0.0001)
    assert funding_carry.run(carry_snapshot(rate=0.0001, premium=premium)) == []
