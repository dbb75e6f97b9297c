"""One trade idea followed forward bar by bar: filled, then exited at its stop,
its target or the end of its horizon, at prices a trader would have got.

- A market order fills at the open of the first bar after the decision.
- A limit order fills on the first bar that trades through its price, at that
  price or at the bar's open when the open is already better; a stop order
  likewise, at its price or at the open when the open gapped past it (worse).
  Neither filled within the horizon: no trade.
- The stop fills at its level or at the bar's open when the open gapped past it,
  whichever is worse; the target at its level (a resting limit never fills
  better than its price). A bar that reaches both is taken as a stop: the order
  inside one bar is unknown, so the evidence assumes the worse.
- On the bar where a pending order filled inside the bar, only the stop counts:
  a target reached in that bar may have come before the fill.
- Neither reached within ``horizon_bars`` (counted from the fill bar): out at
  the close of the last bar of the horizon.

Costs are not applied here (see evidence.walk_forward): this is the gross trade.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from strategies.indicators import Bars  # the bars after the decision, oldest first
from strategies.opportunity import OrderType

LONG, SHORT = 1, -1


class Exit(enum.StrEnum):
    TARGET = "target"
    STOP = "stop"
    HORIZON = "horizon"


class NotTraded(enum.StrEnum):
    UNFILLED = "unfilled"  # a limit or stop order the market never reached in time
    OPEN = "open"  # the data ends before the trade did: its outcome is unknown


@dataclass(frozen=True, slots=True)
class Order:
    direction: int  # LONG or SHORT
    entry: float
    stop: float
    target: float
    order_type: str
    horizon_bars: int  # in bars of the path the order is followed on


@dataclass(frozen=True, slots=True)
class Filled:
    exit: Exit
    entry_index: int
    exit_index: int
    entry_price: float
    exit_price: float

    def gross_return(self, direction: int) -> float:
        """The trade's return before costs, as a fraction of its entry price."""
        return direction * (self.exit_price / self.entry_price - 1.0)


def first(mask: np.ndarray) -> int | None:
    """Index of the first True, or None."""
    index = int(np.argmax(mask)) if len(mask) else 0
    return index if len(mask) and mask[index] else None


def fill_entry(bars: Bars, order: Order) -> tuple[int, float, bool] | NotTraded:
    """Where and at what price the order fills, and whether it filled at the open."""
    if order.order_type == OrderType.MARKET:
        if not len(bars):
            return NotTraded.OPEN
        return 0, float(bars.open[0]), True
    window = slice(0, order.horizon_bars)
    buys_below = (order.order_type == OrderType.LIMIT) == (order.direction == LONG)
    touched = bars.low[window] <= order.entry if buys_below else bars.high[window] >= order.entry
    index = first(touched)
    if index is None:
        return NotTraded.OPEN if len(bars) < order.horizon_bars else NotTraded.UNFILLED
    opened = float(bars.open[index])
    # Limit: the open when it is already better; stop: the open when it gapped past.
    gapped = opened <= order.entry if buys_below else opened >= order.entry
    return index, (opened if gapped else order.entry), gapped


def simulate(bars: Bars, order: Order) -> Filled | NotTraded:
    """Follow ``order`` on ``bars`` (the bars after the decision) to its exit."""
    entered = fill_entry(bars, order)
    if isinstance(entered, NotTraded):
        return entered
    start, entry_price, at_open = entered
    end = start + order.horizon_bars
    window = slice(start, end)
    high, low, opens = bars.high[window], bars.low[window], bars.open[window]
    if order.direction == LONG:
        stop_hit, target_hit = low <= order.stop, high >= order.target
    else:
        stop_hit, target_hit = high >= order.stop, low <= order.target
    if not at_open and len(target_hit):
        target_hit = target_hit.copy()
        target_hit[0] = False  # inside the fill bar the target may have come first
    stop_at, target_at = first(stop_hit), first(target_hit)
    if stop_at is not None and (target_at is None or stop_at <= target_at):
        price = order.stop
        if stop_at > 0 or at_open:
            worse = min if order.direction == LONG else max
            price = worse(order.stop, float(opens[stop_at]))
        return Filled(Exit.STOP, start, start + stop_at, entry_price, price)
    if target_at is not None:
        return Filled(Exit.TARGET, start, start + target_at, entry_price, order.target)
    if len(bars) < end:
        return NotTraded.OPEN
    return Filled(Exit.HORIZON, start, end - 1, entry_price, float(bars.close[end - 1]))
