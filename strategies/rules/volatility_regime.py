"""volatility_regime: the percentile of realised (Garman–Klass) volatility;
when it is very low, bracket the market with a buy stop above and a sell stop
below (quiet markets tend to end in a sharp move, direction unknown).

What to do: place a bracket, two stop orders that cancel each other (OCO):
a buy stop 1 ATR above the close and a sell stop 1 ATR below. It is one idea
(one ``group_id``, both orders in ``legs``, ratio 1 each: whichever triggers
is the whole position) shown as two rows, one per side; each row's stop and
target apply once its side has triggered. Horizon three days (72 hourly bars).
Skips: ``insufficient_history`` under 38 hourly candles, ``no_signal`` with the
volatility percentile it saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, OrderType, leg, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "volatility_regime"


@dataclass(frozen=True, slots=True)
class Params:
    # Realised volatility over the last day of hourly bars ...
    window_bars: int = ind.HOURS_PER_DAY
    # ... ranked against every such day of the last 180 days.
    history_bars: int = 180 * ind.HOURS_PER_DAY
    # "Very low": the quietest tenth of the last half year.
    low_percentile: float = 10.0
    atr_period: int = 14
    # Each stop order sits 1 ATR from the close, so noise does not trigger both.
    trigger_atr: float = 1.0
    # A triggered side is wrong if price returns to where the bracket was set (1 ATR back) ...
    stop_atr: float = 1.0
    # ... and right if the expansion runs 2.5 ATR (volatility expansions are large).
    target_atr: float = 2.5
    confidence_floor: float = 0.35
    # "1-3 days": an expansion that has not come in three days may not come.
    horizon_bars: int = 3 * ind.HOURS_PER_DAY
    # Both orders are full size: one cancels the other, so only one ever fills.
    leg_ratio: float = 1.0


DEFAULTS = Params()


def realised_volatility(bars: ind.Bars, window: int) -> np.ndarray:
    """Garman–Klass volatility of each rolling ``window`` of bars (per bar, not annualised)."""
    return ind.as_floats(np.sqrt(np.maximum(ind.sma(ind.garman_klass_variance(bars), window), 0.0)))


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> list[Opportunity] | Skip:
    bars = ind.bars_of(candles)
    need = params.window_bars + params.atr_period
    if len(bars) < need:
        return insufficient(symbol, len(bars), need)
    volatility = realised_volatility(bars, params.window_bars)
    percentile = ind.percentile_rank(volatility[-params.history_bars :], float(volatility[-1]))
    days = params.history_bars // ind.HOURS_PER_DAY
    if not percentile <= params.low_percentile:
        return quiet(
            symbol,
            f"Garman-Klass volatility {volatility[-1]:.3%}/h at the {percentile:.0f}th "
            f"percentile of {days} days (brackets at or below the {params.low_percentile:g}th)",
        )
    close = bars.close[-1]
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    confidence = blend(params.confidence_floor, 1.0 - percentile / params.low_percentile)
    triggers = {
        direction: close + direction * params.trigger_atr * range_ for direction in (LONG, SHORT)
    }
    legs = [
        leg(symbol, side_of(direction), params.leg_ratio, OrderType.STOP, price)
        for direction, price in triggers.items()
    ]
    found = []
    for direction, entry in triggers.items():
        found.append(
            make_opportunity(
                strategy=NAME,
                symbol=symbol,
                side=side_of(direction),
                entry=entry,
                stop=entry - direction * params.stop_atr * range_,
                target=entry + direction * params.target_atr * range_,
                confidence=confidence,
                horizon="1-3 days",
                rationale=(
                    f"Garman-Klass volatility {volatility[-1]:.3%}/h is at the {percentile:.0f}th "
                    f"percentile of {days} days: {'buy' if direction == LONG else 'sell'} stop at "
                    f"{entry:.6g}, {params.trigger_atr:g} ATR from {close:.6g}, one-cancels-other "
                    f"with the {'sell' if direction == LONG else 'buy'} stop at "
                    f"{triggers[-direction]:.6g}"
                ),
                data_source=source,
                as_of=bars.as_of,
                order_type=OrderType.STOP,
                horizon_bars=params.horizon_bars,
                group_id=f"{NAME}:{symbol}",
                legs=legs,
            )
        )
    return found


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(symbol, snapshot.hourly(symbol), source=snapshot.source, params=params)
        for symbol in snapshot.symbols
    )
