"""volatility_regime: the percentile of realised (Garman–Klass) volatility;
when it is very low, bracket the market with a buy stop above and a sell stop
below (quiet markets tend to end in a sharp move, direction unknown)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
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


DEFAULTS = Params()


def realised_volatility(bars: ind.Bars, window: int) -> np.ndarray:
    """Garman–Klass volatility of each rolling ``window`` of bars (per bar, not annualised)."""
    return ind.as_floats(np.sqrt(np.maximum(ind.sma(ind.garman_klass_variance(bars), window), 0.0)))


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> list[Opportunity]:
    bars = ind.bars_of(candles)
    if len(bars) < params.window_bars + params.atr_period:
        return []
    volatility = realised_volatility(bars, params.window_bars)
    percentile = ind.percentile_rank(volatility[-params.history_bars :], float(volatility[-1]))
    if not percentile <= params.low_percentile:
        return []
    close = bars.close[-1]
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    confidence = blend(params.confidence_floor, 1.0 - percentile / params.low_percentile)
    found = []
    for direction in (LONG, SHORT):
        entry = close + direction * params.trigger_atr * range_
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
                    f"percentile of {params.history_bars // ind.HOURS_PER_DAY} days: "
                    f"{'buy' if direction == LONG else 'sell'} stop at {entry:.6g}, "
                    f"{params.trigger_atr:g} ATR from {close:.6g}"
                ),
                data_source=source,
                as_of=bars.as_of,
            )
        )
    return found


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    return [
        opportunity
        for symbol, candles in snapshot.candles_1h.items()
        for opportunity in evaluate(symbol, candles, source=snapshot.source, params=params)
    ]
