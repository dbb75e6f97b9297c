"""grid: when ADX14 < 20 and price sits inside its 100-bar Donchian channel,
lay grid levels across the channel whose step clears two fees (the buy's and
the sell's)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "grid"


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


def grid_of(low: float, high: float, price: float, maker_fee: float, params: Params) -> Grid | None:
    min_step = price * params.fee_count * maker_fee * params.fee_cushion
    levels = min(params.max_levels, int((high - low) / min_step)) if min_step > 0 else params.max_levels
    return Grid(low, high, levels) if levels >= params.min_levels else None


def evaluate(symbol: str, candles: np.ndarray, market: dict[str, Any], *, source: str,
             params: Params = DEFAULTS) -> list[Opportunity]:
    bars = ind.bars_of(candles)
    if len(bars) <= max(params.channel_bars, 3 * params.adx_period):
        return []
    strength = ind.adx(bars.high, bars.low, bars.close, params.adx_period)[-1]
    # The channel of the 100 bars before the last, so the last close can be tested against it.
    high = float(ind.donchian_high(bars.high, params.channel_bars)[-2])
    low = float(ind.donchian_low(bars.low, params.channel_bars)[-2])
    close = float(bars.close[-1])
    if not (strength < params.adx_max and low < close < high):
        return []
    grid = grid_of(low, high, close, float(market.get("maker", params.default_maker_fee)), params)
    if grid is None:
        return []
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    confidence = blend(params.confidence_floor, 1.0 - strength / params.adx_max)
    found = []
    for direction, entry in ((LONG, grid.below(close)), (SHORT, grid.above(close))):
        edge = grid.low if direction == LONG else grid.high
        found.append(make_opportunity(
            strategy=NAME, symbol=symbol, side=side_of(direction), entry=entry,
            target=entry + direction * grid.step, stop=edge - direction * params.stop_atr * range_,
            confidence=confidence, horizon="days, while the range holds",
            rationale=(f"ADX{params.adx_period} {strength:.1f} < {params.adx_max:g} inside the "
                       f"{params.channel_bars}-bar channel {grid.low:.6g}-{grid.high:.6g}: {grid.levels} "
                       f"levels, step {grid.step:.4g} ({grid.step / close:.2%}) clears two fees; "
                       f"{'buy' if direction == LONG else 'sell'} at {entry:.6g}"),
            data_source=source, as_of=bars.as_of,
        ))
    return found


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    return [opportunity for symbol, candles in snapshot.candles_1h.items()
            for opportunity in evaluate(symbol, candles, snapshot.markets.get(symbol, {}),
                                        source=snapshot.source, params=params)]
