"""market_making: estimate the spread from 5-minute bars (Corwin–Schultz) and
quote both sides when the half-spread exceeds the maker fee plus a volatility
margin."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "market_making"


@dataclass(frozen=True, slots=True)
class Params:
    # The spread and volatility of the last day of 5-minute bars (288 bar pairs).
    window_bars: int = 288
    # Adverse selection: a fill is followed by a move against the quote; a
    # quarter of a 5-minute sigma is the margin the half-spread must also cover.
    volatility_margin_sigmas: float = 0.25
    # Maker fee used when a market carries no fee (a common retail spot rate).
    default_maker_fee: float = 0.001
    # Inventory is cut after a 3-sigma 5-minute move against it.
    stop_sigmas: float = 3.0
    confidence_floor: float = 0.3


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Quote:
    half_spread: float  # fraction of mid
    maker_fee: float
    margin: float  # volatility margin, fraction of mid
    sigma: float  # 5-minute log-return sigma

    @property
    def edge(self) -> float:
        return self.half_spread - self.maker_fee - self.margin


def quote_of(bars: ind.Bars, market: dict[str, Any], params: Params) -> Quote:
    window = slice(-(params.window_bars + 1), None)
    spread = float(np.mean(ind.corwin_schultz_spread(bars.high[window], bars.low[window])))
    sigma = float(np.std(ind.log_returns(bars.close[window]), ddof=1))
    maker = float(market.get("maker", params.default_maker_fee))
    return Quote(spread / 2.0, maker, params.volatility_margin_sigmas * sigma, sigma)


def side_opportunity(
    symbol: str, mid: float, quote: Quote, direction: int, as_of: str, source: str, params: Params
) -> Opportunity:
    entry = mid * (1.0 - direction * quote.half_spread)  # bid for the long side, ask for the short
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side_of(direction),
        entry=entry,
        target=mid * (1.0 + direction * quote.half_spread),
        stop=entry * math.exp(-direction * params.stop_sigmas * quote.sigma),
        confidence=blend(params.confidence_floor, quote.edge / quote.half_spread),
        horizon="minutes (resting quote)",
        rationale=(
            f"Corwin-Schultz half-spread {quote.half_spread:.3%} exceeds maker fee "
            f"{quote.maker_fee:.3%} plus volatility margin {quote.margin:.3%}: quote "
            f"{'bid' if direction == LONG else 'ask'} {entry:.6g} around mid {mid:.6g}"
        ),
        data_source=source,
        as_of=as_of,
    )


def evaluate(
    symbol: str,
    candles: np.ndarray,
    market: dict[str, Any],
    *,
    source: str,
    params: Params = DEFAULTS,
) -> list[Opportunity]:
    bars = ind.bars_of(candles)
    if len(bars) <= params.window_bars:
        return []
    quote = quote_of(bars, market, params)
    if not quote.edge > 0:
        return []
    mid = bars.close[-1]
    return [
        side_opportunity(symbol, mid, quote, direction, bars.as_of, source, params)
        for direction in (LONG, SHORT)
    ]


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    return [
        opportunity
        for symbol, candles in snapshot.candles_5m.items()
        for opportunity in evaluate(
            symbol, candles, snapshot.markets.get(symbol, {}), source=snapshot.source, params=params
        )
    ]
