"""mean_reversion: close below the lower Bollinger band (20, 2) with RSI14 < 30
(mirror: above the upper band with RSI14 > 70); target the middle band,
stop 1.5·ATR.

What to do: open a long (short) with a market order at the last close; exit at
the middle band (the target) or the stop, or after a day (24 hourly bars).
Single-leg. Skips: ``insufficient_history`` under 21 hourly candles,
``no_signal`` with the close against the bands and the RSI it saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "mean_reversion"


@dataclass(frozen=True, slots=True)
class Params:
    # Bollinger's own (20, 2): about 5 % of closes fall outside by chance.
    band_period: int = 20
    band_deviations: float = 2.0
    # Wilder's RSI14 with his 30/70 oversold/overbought lines.
    rsi_period: int = 14
    rsi_oversold: float = 30.0
    rsi_overbought: float = 70.0
    atr_period: int = 14
    # 1.5 ATR: room for the extreme to overshoot a little before it reverts.
    stop_atr: float = 1.5
    # RSI this many points past its line counts as a full-strength extreme.
    rsi_full_extreme: float = 20.0
    confidence_floor: float = 0.45
    # "4-24 hours": a reversion not done in a day is not coming.
    horizon_bars: int = ind.HOURS_PER_DAY


DEFAULTS = Params()


def direction_of(close: float, bands: ind.Bands, strength: float, params: Params) -> int | None:
    if close < bands.lower[-1] and strength < params.rsi_oversold:
        return LONG
    if close > bands.upper[-1] and strength > params.rsi_overbought:
        return SHORT
    return None


def no_extreme(
    symbol: str, close: float, bands: ind.Bands, strength: float, params: Params
) -> Skip:
    """What the rule saw where neither extreme held."""
    if bands.lower[-1] <= close <= bands.upper[-1]:
        where = f"inside the Bollinger bands {bands.lower[-1]:.6g}-{bands.upper[-1]:.6g}"
    else:
        where = f"outside the Bollinger bands {bands.lower[-1]:.6g}-{bands.upper[-1]:.6g}"
    return quiet(
        symbol,
        f"close {close:.6g} {where} with RSI{params.rsi_period} {strength:.1f} "
        f"(needs below {params.rsi_oversold:g} under the lower band, above "
        f"{params.rsi_overbought:g} over the upper)",
    )


def evaluate(
    symbol: str, candles: np.ndarray, *, source: str, params: Params = DEFAULTS
) -> Opportunity | Skip:
    bars = ind.bars_of(candles)
    need = max(params.band_period, params.rsi_period, params.atr_period) + 1
    if len(bars) < need:
        return insufficient(symbol, len(bars), need)
    bands = ind.bollinger(bars.close, params.band_period, params.band_deviations)
    strength = ind.rsi(bars.close, params.rsi_period)[-1]
    entry = bars.close[-1]
    direction = direction_of(entry, bands, strength, params)
    if direction is None:
        return no_extreme(symbol, entry, bands, strength, params)
    range_ = ind.atr(bars.high, bars.low, bars.close, params.atr_period)[-1]
    extreme = (
        (params.rsi_oversold - strength)
        if direction == LONG
        else (strength - params.rsi_overbought)
    )
    band, edge = ("lower", bands.lower[-1]) if direction == LONG else ("upper", bands.upper[-1])
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side=side_of(direction),
        entry=entry,
        stop=entry - direction * params.stop_atr * range_,
        target=bands.middle[-1],
        confidence=blend(params.confidence_floor, extreme / params.rsi_full_extreme),
        horizon="4-24 hours",
        rationale=(
            f"close {entry:.6g} beyond the {band} Bollinger band {edge:.6g} with "
            f"RSI{params.rsi_period} {strength:.1f}; target the middle band "
            f"{bands.middle[-1]:.6g}, stop {params.stop_atr:g} ATR ({range_:.4g})"
        ),
        data_source=source,
        as_of=bars.as_of,
        horizon_bars=params.horizon_bars,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(
        evaluate(symbol, snapshot.hourly(symbol), source=snapshot.source, params=params)
        for symbol in snapshot.symbols
    )
