import numpy as np
import pytest

from strategies.rules import market_making
from tests.strategies.synthetic import END_MS, FIVE_MIN_MS, assert_quiet, assert_well_formed

SPREAD, BOUNCE, MID, BARS = 0.004, 0.0005, 100.0, 400


def quoted_bars() -> np.ndarray:
    """Highs at the ask, lows at the bid of a fixed mid: Corwin–Schultz finds the spread exactly."""
    close = MID * (1 + BOUNCE * (-1.0) ** np.arange(BARS))
    open_ = np.concatenate([[MID], close[:-1]])
    stamps = END_MS - FIVE_MIN_MS * np.arange(BARS)[::-1]
    return np.column_stack(
        [
            stamps,
            open_,
            np.full(BARS, MID * (1 + SPREAD / 2)),
            np.full(BARS, MID * (1 - SPREAD / 2)),
            close,
            np.full(BARS, 10.0),
        ]
    )


def test_quotes_both_sides_when_the_spread_pays() -> None:
    bars = quoted_bars()
    bid, ask = market_making.evaluate("A/USDT", bars, {"maker": 0.001}, source="t")
    sigma = np.std(np.diff(np.log(bars[-289:, 4])), ddof=1)
    half, margin = SPREAD / 2, 0.25 * sigma
    mid = bars[-1, 4]
    assert (bid.side, ask.side) == ("long", "short")
    assert bid.entry == pytest.approx(mid * (1 - half)) and bid.target == pytest.approx(
        mid * (1 + half)
    )
    assert ask.entry == pytest.approx(mid * (1 + half)) and ask.target == pytest.approx(
        mid * (1 - half)
    )
    assert bid.stop == pytest.approx(bid.entry * np.exp(-3 * sigma))
    assert bid.confidence == pytest.approx(0.3 + 0.7 * (half - 0.001 - margin) / half, abs=1e-4)
    assert "half-spread 0.200%" in bid.rationale
    for opportunity in (bid, ask):
        assert_well_formed(opportunity)
    # Two-sided quotes: limit orders at the bid and the ask, one idea.
    assert (bid.action, ask.action, bid.order_type) == ("quote", "quote", "limit")
    assert bid.group_id == ask.group_id == "market_making:A/USDT" and bid.legs == ask.legs
    assert [(leg.side, leg.order_type) for leg in bid.legs] == [
        ("long", "limit"),
        ("short", "limit"),
    ]
    assert [leg.price for leg in bid.legs] == pytest.approx([bid.entry, ask.entry])


def test_silent_when_the_maker_fee_exceeds_the_half_spread() -> None:
    assert_quiet(
        market_making.evaluate("A/USDT", quoted_bars(), {"maker": 0.0025}, source="t"),
        "does not exceed maker fee 0.250%",
    )
