import numpy as np
import pytest

from strategies import indicators as ind
from strategies.rules import grid
from tests.strategies.synthetic import (
    assert_quiet,
    assert_well_formed,
    candles,
    path,
    wilder_atr,
    zigzag,
)

FEES = {"maker": 0.001}


def ranging() -> np.ndarray:
    return candles(np.concatenate([zigzag(299, 1.0), [100.4]]), half_range=0.5)


def test_lays_a_fee_clearing_grid_inside_the_channel() -> None:
    bars = ranging()
    assert ind.adx(bars[:, 2], bars[:, 3], bars[:, 4])[-1] < 20
    buy, sell = grid.evaluate("A/USDT", bars, FEES, source="t")
    low, high = 99.5, 101.5  # the channel of the 100 bars before the last: zigzag 100/101 ± 0.5
    # Steps must clear 2 fees x 1.5 cushion at 100.4: 0.3012, so int(2 / 0.3012) = 6 levels.
    step = (high - low) / 6
    atr = wilder_atr(bars)[-1]
    assert buy.side == "long" and buy.entry == pytest.approx(low + 2 * step)
    assert buy.target == pytest.approx(low + 3 * step) and buy.stop == pytest.approx(low - atr)
    assert sell.side == "short" and sell.entry == pytest.approx(low + 3 * step)
    assert sell.target == pytest.approx(low + 2 * step) and sell.stop == pytest.approx(high + atr)
    assert "6 levels" in buy.rationale
    for opportunity in (buy, sell):
        assert_well_formed(opportunity)
    # One idea, every level a limit order: buys below the price, sells above, equal shares.
    assert buy.group_id == sell.group_id == "grid:A/USDT"
    assert buy.legs == sell.legs
    assert (buy.order_type, buy.action, sell.action) == ("limit", "open_long", "open_short")
    levels = [low + k * step for k in range(7)]
    assert [leg.price for leg in buy.legs] == pytest.approx(levels)
    assert [leg.side for leg in buy.legs] == ["long"] * 3 + ["short"] * 4
    assert {leg.order_type for leg in buy.legs} == {"limit"}
    assert [leg.ratio for leg in buy.legs] == pytest.approx([1 / 7] * 7)


def test_silent_in_a_trend() -> None:
    assert_quiet(grid.evaluate("A/USDT", candles(path((300, 0.3))), FEES, source="t"), "trending")


def test_silent_when_fees_need_a_wider_channel() -> None:
    assert_quiet(
        grid.evaluate("A/USDT", ranging(), {"maker": 0.01}, source="t"),
        "fewer than 4 levels whose step clears 2 fees",
    )
