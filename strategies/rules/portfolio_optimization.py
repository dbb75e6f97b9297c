"""portfolio_optimization: long-only minimum-variance weights from a
Ledoit–Wolf-shrunk covariance of daily returns, against the user's holdings;
trade each holding whose weight is more than 2 % off its target."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies import portfolio as pf
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "portfolio_optimization"


@dataclass(frozen=True, slots=True)
class Params:
    # Ninety daily returns: a quarter of history, enough for a 10-coin covariance once shrunk.
    lookback_days: int = 90
    # Rebalance only weights more than 2 percentage points off target (the catalogue's band).
    drift_threshold: float = 0.02
    # Rebalancing has no directional edge: levels frame the next review, one
    # two-week sigma either side.
    review_days: int = 14
    stop_sigmas: float = 1.0
    target_sigmas: float = 1.0
    # Ten points of drift is a badly unbalanced portfolio.
    full_drift: float = 0.10
    confidence_floor: float = 0.3


DEFAULTS = Params()


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    holdings = pf.holdings_of(snapshot)
    if holdings is None or len(holdings.symbols) < 2:
        return []
    closes = pf.close_matrix(snapshot, holdings.symbols, params.lookback_days + 1, ind.HOURS_PER_DAY)
    returns = pf.log_returns(closes)
    if len(returns) < len(holdings.symbols) + 1:
        return []
    covariance, shrinkage = pf.ledoit_wolf(returns)
    targets = pf.minimum_variance(covariance)
    current = holdings.weights
    daily_sigmas = np.sqrt(np.diag(covariance))
    as_of = ind.iso_of(snapshot.candles_1h[holdings.symbols[0]][-1, ind.TIME])
    found = []
    for index, symbol in enumerate(holdings.symbols):
        drift = float(targets[index] - current[index])
        if abs(drift) <= params.drift_threshold:
            continue
        direction = LONG if drift > 0 else SHORT
        entry = float(holdings.prices[index])
        sigma = float(daily_sigmas[index]) * math.sqrt(params.review_days)
        found.append(make_opportunity(
            strategy=NAME, symbol=symbol, side=side_of(direction), entry=entry,
            stop=entry * math.exp(-direction * params.stop_sigmas * sigma),
            target=entry * math.exp(direction * params.target_sigmas * sigma),
            confidence=blend(params.confidence_floor, abs(drift) / params.full_drift),
            horizon=f"rebalance now, review in {params.review_days} days",
            rationale=(f"minimum-variance weight {targets[index]:.1%} vs held {current[index]:.1%} "
                       f"({drift:+.1%}, beyond ±{params.drift_threshold:.0%}) from a {params.lookback_days}-day "
                       f"covariance shrunk {shrinkage:.0%} toward its average variance: "
                       f"{'buy' if direction == LONG else 'sell'} about ${abs(drift) * holdings.total:,.0f}"),
            data_source=snapshot.source, as_of=as_of,
        ))
    return found
