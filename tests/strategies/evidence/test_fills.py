"""The trade simulator: fills at realistic prices, stop first when a bar reaches both."""

from __future__ import annotations

import numpy as np
import pytest

from strategies.evidence.fills import LONG, SHORT, Exit, Filled, NotTraded, Order, simulate
from strategies.indicators import Bars


def bars(*rows: tuple[float, float, float, float]) -> Bars:
    """Bars from (open, high, low, close) rows, an hour apart."""
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    time = np.arange(len(rows), dtype=np.float64) * 3_600_000
    volume = np.ones(len(rows))
    return Bars(time, table[:, 0], table[:, 1], table[:, 2], table[:, 3], volume)


def order(direction: int = LONG, *, entry=100.0, stop=95.0, target=110.0, kind="market", h=5):
    return Order(direction, entry, stop, target, kind, h)


def test_market_order_fills_at_the_next_open_and_exits_at_the_target_level():
    path = bars((101, 102, 100, 101), (101, 112, 100, 111))
    filled = simulate(path, order())
    assert filled == Filled(Exit.TARGET, 0, 1, 101.0, 110.0)
    assert filled.gross_return(LONG) == pytest.approx(110 / 101 - 1)


def test_a_gap_past_the_target_still_fills_at_the_target():
    path = bars((101, 102, 100, 101), (115, 116, 114, 115))
    filled = simulate(path, order())
    assert isinstance(filled, Filled) and filled.exit_price == 110.0


def test_stop_fills_at_the_gapped_open_when_it_is_worse():
    path = bars((100, 101, 99, 100), (90, 91, 88, 89))
    filled = simulate(path, order())
    assert filled == Filled(Exit.STOP, 0, 1, 100.0, 90.0)


def test_stop_fills_at_its_level_when_the_bar_trades_through_it():
    path = bars((100, 101, 99, 100), (99, 100, 94, 96))
    assert simulate(path, order()) == Filled(Exit.STOP, 0, 1, 100.0, 95.0)


def test_a_bar_that_reaches_both_levels_is_a_stop():
    path = bars((100, 101, 99, 100), (100, 111, 94, 105))
    filled = simulate(path, order())
    assert isinstance(filled, Filled) and filled.exit == Exit.STOP


def test_short_mirrors_long():
    path = bars((100, 101, 99, 100), (99, 100, 89, 90))
    filled = simulate(path, order(SHORT, stop=105.0, target=90.0))
    assert filled == Filled(Exit.TARGET, 0, 1, 100.0, 90.0)
    assert filled.gross_return(SHORT) == pytest.approx(0.1)
    gapped = bars((100, 101, 99, 100), (107, 108, 106, 107))
    assert simulate(gapped, order(SHORT, stop=105.0, target=90.0)) == Filled(
        Exit.STOP, 0, 1, 100.0, 107.0
    )


def test_horizon_exit_at_the_close_of_its_last_bar():
    path = bars(*[(100, 101, 99, 100 + i) for i in range(6)])
    assert simulate(path, order(h=3)) == Filled(Exit.HORIZON, 0, 2, 100.0, 102.0)


def test_a_trade_the_data_ends_before_is_open_not_a_result():
    path = bars((100, 101, 99, 100), (100, 101, 99, 100))
    assert simulate(path, order(h=5)) is NotTraded.OPEN
    assert simulate(bars(), order()) is NotTraded.OPEN


def test_limit_buy_fills_at_its_price_when_traded_through():
    path = bars((100, 101, 99, 100), (99, 100, 97, 98), (98, 99.5, 97.5, 99))
    filled = simulate(path, order(entry=98.0, stop=95.0, target=99.0, kind="limit"))
    # Filled in bar 1 at 98; bar 1's high (100) reached the target, but inside the
    # fill bar the target may have come first: it counts from bar 2.
    assert filled == Filled(Exit.TARGET, 1, 2, 98.0, 99.0)


def test_limit_buy_fills_at_a_better_open():
    path = bars((97, 98, 96.5, 97.5), (97.5, 99.5, 97, 99))
    filled = simulate(path, order(entry=98.0, stop=95.0, target=99.0, kind="limit"))
    assert filled == Filled(Exit.TARGET, 0, 1, 97.0, 99.0)


def test_limit_order_never_reached_is_unfilled():
    path = bars(*[(100, 101, 99, 100)] * 5)
    assert simulate(path, order(entry=98.0, kind="limit", h=5)) is NotTraded.UNFILLED


def test_stop_entry_fills_at_the_worse_gapped_open():
    path = bars((100, 101, 99, 100), (103, 104, 102, 103), (103, 109, 102, 108))
    filled = simulate(path, order(entry=102.0, stop=100.0, target=108.0, kind="stop"))
    assert filled == Filled(Exit.TARGET, 1, 2, 103.0, 108.0)


def test_stop_is_checked_in_the_fill_bar_of_a_pending_order():
    path = bars((100, 101, 94, 96))
    filled = simulate(path, order(entry=98.0, stop=95.0, target=110.0, kind="limit"))
    assert filled == Filled(Exit.STOP, 0, 0, 98.0, 95.0)
