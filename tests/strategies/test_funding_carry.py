import numpy as np
import pytest

from strategies.market_data import MarketSnapshot
from strategies.rules import funding_carry
from tests.strategies.synthetic import (
    END_MS,
    HOUR_MS,
    assert_quiet,
    assert_well_formed,
    candles,
    skip_of,
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
    [found] = funding_carry.run(carry_snapshot(rate=0.0005, premium=premium)).opportunities
    annual = 0.0005 * 3 * 365
    net = annual - 4 * 0.0005 * 365 / 14
    sigma = premium[-720:].std(ddof=1)
    assert found.side == "long" and found.entry == pytest.approx(100.0)
    # Delta-neutral: no price levels; the note names the carry and the premium stop.
    assert found.target is None and found.stop is None
    assert found.expected_return == 0.0 and found.risk_reward == 0.0
    assert found.levels_note is not None
    assert f"about {net * 14 / 365:.3%} carry expected" in found.levels_note
    assert f"rises {3 * max(sigma, abs(premium[-1])):.3%} against" in found.levels_note
    assert (found.action, found.order_type, found.horizon_bars) == ("open_long", "market", 336)
    assert found.group_id == "funding_carry:A/USDT"
    spot, perp = found.legs
    assert (spot.symbol, spot.side, spot.ratio, spot.order_type) == (
        "A/USDT",
        "long",
        1.0,
        "market",
    )
    assert (perp.symbol, perp.side, perp.ratio) == ("A/USDT:USDT", "short", 1.0)
    assert perp.price == pytest.approx(100.0 * (1 + premium[-1]))
    assert found.confidence == 1.0  # net ~50 % a year is past the 30 % "full" mark
    assert f"funding {annual:.1%} a year, {net:.1%} after 4 taker fees" in found.rationale
    assert_well_formed(found)


def test_fires_on_a_rich_premium_even_with_ordinary_funding() -> None:
    premium = zigzag(BARS, 0.0001, level=0.0001)
    premium[-1] = 0.0008  # far above its 30-day range
    [found] = funding_carry.run(carry_snapshot(rate=0.0001, premium=premium)).opportunities
    window = premium[-720:]
    z = (window[-1] - window.mean()) / window.std(ddof=1)
    assert z > 2
    net_over_holding = (0.0001 * 3 * 365 - 4 * 0.0005 * 365 / 14) * 14 / 365
    # The expected gain is the larger: the carry over the holding, or the premium's reversion.
    gain = max(net_over_holding, z * window.std(ddof=1))
    assert found.levels_note is not None and f"about {gain:.3%} carry" in found.levels_note
    assert f"z {z:+.2f}" in found.rationale
    assert_well_formed(found)


def test_silent_when_fees_eat_the_carry() -> None:
    premium = zigzag(BARS, 0.0001, level=0.0001)
    found = funding_carry.run(carry_snapshot(rate=0.0001, premium=premium))
    assert found.opportunities == []
    assert_quiet(skip_of(found, "A/USDT"), "after fees (needs 10%)", "(needs 2)")


def test_skips_without_perp_or_funding() -> None:
    spot = candles(np.full(BARS, 100.0), half_range=0.1)
    perp = np.column_stack([spot[:, 0], spot[:, 4]])
    found = funding_carry.run(
        snapshot(
            {"A/USDT": spot, "B/USDT": spot, "C/USDT": spot},
            perp_1h={"B/USDT": perp, "C/USDT": perp[-1:]},
            funding={"A/USDT": np.array([[END_MS, 0.001]]), "C/USDT": np.array([[END_MS, 0.001]])},
        )
    )
    assert found.opportunities == [] and found.evaluated == 3
    assert skip_of(found, "A/USDT").code == "no_perpetual"
    assert skip_of(found, "A/USDT").message == "no perpetual (A/USDT:USDT) closes"
    assert skip_of(found, "B/USDT").code == "no_funding_data"
    assert skip_of(found, "C/USDT").message == "1 of 2 hours with both spot and perpetual closes"
