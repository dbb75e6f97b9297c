"""grid: when ADX14 < 20 and price sits inside its 100-bar Donchian channel,
lay grid levels across the channel whose step clears two fees (the buy's and
the sell's).

What to do: lay the grid, a limit buy at every level below the price and a
limit sell at every level above (``legs``, each an equal share of the grid),
as one idea (one ``group_id``) shown as two rows: the nearest buy and the
nearest sell. A row's target is the next level (one fill's profit); its stop is
the grid's: a close one ATR outside the channel ends the range and every
level. The grid runs while the range holds, reviewed after three days (72
hourly bars). Skips: ``insufficient_history`` under 101 hourly candles,
``no_signal`` with the ADX, the channel or the fee-clearing level count it saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Leg, Opportunity, OrderType, leg, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "grid"
# ADX needs two periods of bars to start and one more to settle.
ADX_WARMUP_PERIODS = 3


@dataclass(frozen=True, slots=True)
class Params:
    adx_period: int = 14
    # Below 20 ADX a market is ranging: what a grid harvests.
    adx_max: float = 20.0
    channel_bars: int = 100
    # Ten levels at most: finer grids only multiply fees.
    max_levels: int = 10
    # Fewer than four levels is not a grid, just two orders.
    min_levels: int = 4
    # Each step must clear the buy's and the sell's maker fee ...
    fee_count: int = 2
    # ... with a 50 % cushion for slippage and partial fills.
    fee_cushion: float = 1.5
    default_maker_fee: float = 0.001
    atr_period: int = 14
    # A close one ATR outside the channel ends the range: the grid's stop.
    stop_atr: float = 1.0
    confidence_floor: float = 0.3
    # A grid lives as long as its range; it is reviewed (and its evidence followed)
    # over three days.
    horizon_bars: int = 3 * ind.HOURS_PER_DAY


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Grid:
    low: float
    high: float
    levels: int

    @property
    def step(self) -> float:
        return (self.high - self.low) / self.levels

    def below(self, price: float) -> float:
        return self.low + math.floor((price - self.low) / self.step) * self.step

    def above(self, price: float) -> float:
        return self.low + (math.floor((price - self.low) / self.step) + 1) * self.step

    def prices(self) -> list[float]:
        return [self.low + index * self.step for index in range(self.levels + 1)]


def grid_legs(symbol: str, grid: Grid, close: float) -> list[Leg]:
    """A limit buy at every level below ``close``, a limit sell at every level above."""
    orders = [(price, "long" if price < close else "short") for price in grid.prices()]
    orders = [(price, side) for price, side in orders if price != close]
    share = 1.0 / len(orders)
    return [leg(symbol, side, share, OrderType.LIMIT, price) for price, side in orders]


def grid_of(low: float, high: float, price: float, maker_fee: float, params: Params) -> Grid | None:
    min_step = price * params.fee_count * maker_fee * params.fee_cushion
    levels = (
        min(params.max_levels, int((high - low) / min_step)) if min_step > 0 else params.max_levels
    )
    return Grid(low, high, levels) if levels >= params.min_levels else None


@dataclass(frozen=True, slots=True)
class Setup:
    """What one symbol's grid is built from."""

    grid: Grid
    close: float
    strength: float  # ADX
    atr: float
    as_of: str


def order(
    symbol: str, setup: Setup, direction: int, legs: list[Leg], source: str, params: Params
) -> Opportunity:
    """The grid order nearest the price on one side: buy below it, or sell above it."""
    grid = setup.grid
    entry = grid.below(setup.close) if direction == LONG else grid.above(setup.close)
    edge = grid.low if direction == LONG else grid.high
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side_of(direction),
        entry=entry,
        target=entry + direction * grid.step,
        stop=edge - direction * params.stop_atr * setup.atr,
        confidence=blend(params.confidence_floor, 1.0 - setup.strength / params.adx_max),
        horizon="days, while the range holds",
        rationale=(
            f"ADX{params.adx_period} {setup.strength:.1f} < {params.adx_max:g} inside the "
            f"{params.channel_bars}-bar channel {grid.low:.6g}-{grid.high:.6g}: {grid.levels} "
            f"levels, step {grid.step:.4g} ({grid.step / setup.close:.2%}) clears "
            f"{params.fee_count} fees; {'buy' if direction == LONG else 'sell'} at {entry:.6g}"
        ),
        data_source=source,
        as_of=setup.as_of,
        order_type=OrderType.LIMIT,
        horizon_bars=params.horizon_bars,
        group_id=f"{NAME}:{symbol}",
        legs=legs,
    )


def setup_of(
    symbol: str, candles: np.ndarray, market: dict[str, Any], params: Params
) -> Setup | Skip:
    bars = ind.bars_of(candles)
    need = max(params.channel_bars, ADX_WARMUP_PERIODS * params.adx_period) + 1
    if len(bars) < need:
        return insufficient(symbol, len(bars), need)
    strength = float(ind.adx(bars.high, bars.low, bars.close, params.adx_period)[-1])
    # The channel of the 100 bars before the last, so the last close can be tested against it.
    high = float(ind.donchian_high(bars.high, params.channel_bars)[-2])
    low = float(ind.donchian_low(bars.low, params.channel_bars)[-2])
    close = float(bars.close[-1])
    if not strength < params.adx_max:
        return quiet(
            symbol, f"ADX{params.adx_period} {strength:.1f} >= {params.adx_max:g}: trending"
        )
    if not low < close < high:
        return quiet(
            symbol,
            f"close {close:.6g} outside the {params.channel_bars}-bar channel {low:.6g}-{high:.6g}",
        )
    grid = grid_of(low, high, close, float(market.get("maker", params.default_maker_fee)), params)
    if grid is None:
        return quiet(
            symbol,
            f"the {params.channel_bars}-bar channel {low:.6g}-{high:.6g} holds fewer than "
            f"{params.min_levels} levels whose step clears {params.fee_count} fees",
        )
    atr = float(ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1])
    return Setup(grid, close, strength, atr, bars.as_of)


def evaluate(
    symbol: str,
    candles: np.ndarray,
    market: dict[str, Any],
    *,
    source: str,
    params: Params = DEFAULTS,
) -> list[Opportunity] | Skip:
    setup = setup_of(symbol, candles, market, params)
    if isinstance(setup, Skip):
        return setup
    legs = grid_legs(symbol, setup.grid, setup.close)
    return [order(symbol, setup, direction, legs, source, params) for direction in (LONG, SHORT)]


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(
            symbol,
            snapshot.hourly(symbol),
            snapshot.markets.get(symbol, {}),
            source=snapshot.source,
            params=params,
        )
        for symbol in snapshot.symbols
    )
