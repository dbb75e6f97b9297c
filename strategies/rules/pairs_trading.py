"""pairs_trading: Engle–Granger cointegration on 30 days of hourly log prices
(p < 0.05), hedge ratio by OLS; enter at |z| > 2, exit at 0, stop at |z| > 3.5."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.cointegration import EngleGranger, engle_granger
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "pairs_trading"


@dataclass(frozen=True, slots=True)
class Params:
    lookback_bars: int = 30 * ind.HOURS_PER_DAY
    # One lagged difference absorbs the short-term autocorrelation of hourly
    # spreads; fixing it (no autolag) keeps the test identical across pairs and scans.
    adf_lags: int = 1
    max_p_value: float = 0.05
    entry_z: float = 2.0
    exit_z: float = 0.0
    stop_z: float = 3.5
    confidence_floor: float = 0.4


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Pair:
    dependent: str  # the leg traded by the opportunity (y)
    hedge: str  # the leg sized by the hedge ratio (x)


def pairs_of(symbols: list[str]) -> list[Pair]:
    """Every unordered pair; the later symbol is regressed on the earlier (leaders come first)."""
    return [
        Pair(dependent=later, hedge=earlier)
        for earlier, later in itertools.combinations(symbols, 2)
    ]


def price_at_z(price: float, z_now: float, z_then: float, spread_sigma: float) -> float:
    """The dependent leg's price at which the spread's z-score is ``z_then`` (hedge leg fixed)."""
    return price * math.exp((z_then - z_now) * spread_sigma)


def opportunity_for(
    pair: Pair, test: EngleGranger, price: float, as_of: str, source: str, params: Params
) -> Opportunity | None:
    sigma = float(test.residuals.std(ddof=1))
    if sigma == 0 or not test.p_value < params.max_p_value:
        return None
    z = float((test.residuals[-1] - test.residuals.mean()) / sigma)
    if not params.entry_z < abs(z) < params.stop_z:
        return None
    direction = SHORT if z > 0 else LONG  # a rich spread is sold, a cheap one bought
    hedge_side = side_of(-direction)
    return make_opportunity(
        strategy=NAME,
        symbol=pair.dependent,
        side=side_of(direction),
        entry=price,
        stop=price_at_z(price, z, math.copysign(params.stop_z, z), sigma),
        target=price_at_z(price, z, params.exit_z, sigma),
        confidence=blend(params.confidence_floor, 1.0 - test.p_value / params.max_p_value),
        horizon="1-5 days",
        rationale=(
            f"{pair.dependent} and {pair.hedge} cointegrated over "
            f"{params.lookback_bars // ind.HOURS_PER_DAY} days (Engle-Granger "
            f"p={test.p_value:.3f}); spread z={z:+.2f}, so {side_of(direction)} {pair.dependent} "
            f"and {hedge_side} {test.hedge_ratio:.2f}x {pair.hedge} until z returns to "
            f"{params.exit_z:g}, stop at |z| {params.stop_z:g}"
        ),
        data_source=source,
        as_of=as_of,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    usable = [
        s for s, candles in snapshot.candles_1h.items() if len(candles) >= params.lookback_bars
    ]
    logs = {
        s: np.log(
            np.asarray(snapshot.candles_1h[s][-params.lookback_bars :, ind.CLOSE], dtype=np.float64)
        )
        for s in usable
    }
    found = []
    for pair in pairs_of(usable):
        test = engle_granger(logs[pair.dependent], logs[pair.hedge], params.adf_lags)
        candles = snapshot.candles_1h[pair.dependent]
        opportunity = opportunity_for(
            pair,
            test,
            float(candles[-1, ind.CLOSE]),
            ind.iso_of(candles[-1, ind.TIME]),
            snapshot.source,
            params,
        )
        if opportunity is not None:
            found.append(opportunity)
    return found
