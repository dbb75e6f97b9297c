"""market_making: estimate the spread from 5-minute bars (Corwin–Schultz) and
quote both sides when the half-spread exceeds the maker fee plus a volatility
margin.

What to do: quote both sides, a limit bid below the mid and a limit ask above
(action ``quote``), as one idea (one ``group_id``, both orders in ``legs``,
ratio 1 each) shown as two rows. A filled bid's target is the ask and vice
versa; each row's stop cuts the inventory after a 3-sigma 5-minute move
against it. Quotes are refreshed within the hour (1 hourly bar). Skips:
``insufficient_history`` under 289 5-minute candles, ``no_signal`` with the
half-spread against the fee and the margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.findings import FIVE_MINUTE, Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Action, Leg, Opportunity, OrderType, leg, make_opportunity
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
    # A resting quote is re-priced within the hour.
    horizon_bars: int = 1
    # Bid and ask of equal size: a round trip ends flat.
    leg_ratio: float = 1.0


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


def quote_price(mid: float, quote: Quote, direction: int) -> float:
    """The bid for the long side, the ask for the short."""
    return mid * (1.0 - direction * quote.half_spread)


def side_opportunity(
    symbol: str,
    mid: float,
    quote: Quote,
    direction: int,
    legs: list[Leg],
    as_of: str,
    source: str,
    params: Params,
) -> Opportunity:
    entry = quote_price(mid, quote, direction)
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
        action=Action.QUOTE,
        order_type=OrderType.LIMIT,
        horizon_bars=params.horizon_bars,
        group_id=f"{NAME}:{symbol}",
        legs=legs,
    )


def evaluate(
    symbol: str,
    candles: np.ndarray,
    market: dict[str, Any],
    *,
    source: str,
    params: Params = DEFAULTS,
) -> list[Opportunity] | Skip:
    bars = ind.bars_of(candles)
    if len(bars) <= params.window_bars:
        return insufficient(symbol, len(bars), params.window_bars + 1, FIVE_MINUTE)
    quote = quote_of(bars, market, params)
    if not quote.edge > 0:
        return quiet(
            symbol,
            f"Corwin-Schultz half-spread {quote.half_spread:.3%} does not exceed maker fee "
            f"{quote.maker_fee:.3%} plus volatility margin {quote.margin:.3%}",
        )
    mid = bars.close[-1]
    legs = [
        leg(symbol, side_of(d), params.leg_ratio, OrderType.LIMIT, quote_price(mid, quote, d))
        for d in (LONG, SHORT)
    ]
    return [
        side_opportunity(symbol, mid, quote, direction, legs, bars.as_of, source, params)
        for direction in (LONG, SHORT)
    ]


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(
            symbol,
            snapshot.five_minute(symbol),
            snapshot.markets.get(symbol, {}),
            source=snapshot.source,
            params=params,
        )
        for symbol in snapshot.symbols
    )
