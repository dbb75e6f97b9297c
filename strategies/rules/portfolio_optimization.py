"""portfolio_optimization: target weights from a Ledoit–Wolf-shrunk covariance
of daily returns (risk parity by default, long-only minimum variance on
request), against the user's holdings; trade each holding whose weight is
more than 2 % off its target.

Risk parity is the default because crypto returns share one dominant factor:
minimum variance then piles everything into the least volatile coins (70 %
BTC and 30 % ETH, nothing in the rest, on the bundled data), which is a
corner solution, not advice.
"""

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


# A portfolio of one coin has nothing to rebalance.
MIN_ASSETS = 2
METHODS = {"risk_parity": pf.risk_parity, "minimum_variance": pf.minimum_variance}


@dataclass(frozen=True, slots=True)
class Params:
    method: str = "risk_parity"
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


@dataclass(frozen=True, slots=True)
class Plan:
    """Target weights for the holdings and what they were derived from."""

    holdings: pf.Holdings
    targets: np.ndarray
    daily_sigmas: np.ndarray
    shrinkage: float


def plan_of(snapshot: MarketSnapshot, params: Params) -> Plan | None:
    holdings = pf.holdings_of(snapshot)
    if holdings is None or len(holdings.symbols) < MIN_ASSETS:
        return None
    days = params.lookback_days + 1
    returns = pf.log_returns(pf.close_matrix(snapshot, holdings.symbols, days, ind.HOURS_PER_DAY))
    if len(returns) <= len(holdings.symbols):
        return None  # fewer days than coins: no covariance worth the name
    covariance, shrinkage = pf.ledoit_wolf(returns)
    targets = METHODS[params.method](covariance)
    return Plan(holdings, targets, np.sqrt(np.diag(covariance)), shrinkage)


def trade(plan: Plan, index: int, as_of: str, source: str, params: Params) -> Opportunity:
    holdings = plan.holdings
    target, held = float(plan.targets[index]), float(holdings.weights[index])
    drift = target - held
    direction = LONG if drift > 0 else SHORT
    entry = float(holdings.prices[index])
    sigma = float(plan.daily_sigmas[index]) * math.sqrt(params.review_days)
    return make_opportunity(
        strategy=NAME,
        symbol=holdings.symbols[index],
        side=side_of(direction),
        entry=entry,
        stop=entry * math.exp(-direction * params.stop_sigmas * sigma),
        target=entry * math.exp(direction * params.target_sigmas * sigma),
        confidence=blend(params.confidence_floor, abs(drift) / params.full_drift),
        horizon=f"rebalance now, review in {params.review_days} days",
        rationale=(
            f"{params.method.replace('_', ' ')} weight {target:.1%} vs held {held:.1%} "
            f"({drift:+.1%}, beyond ±{params.drift_threshold:.0%}) from a "
            f"{params.lookback_days}-day covariance shrunk {plan.shrinkage:.0%} toward its "
            f"average variance: {'buy' if direction == LONG else 'sell'} about "
            f"${abs(drift) * holdings.total:,.0f}"
        ),
        data_source=source,
        as_of=as_of,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    plan = plan_of(snapshot, params)
    if plan is None:
        return []
    drifts = np.abs(plan.targets - plan.holdings.weights)
    as_of = ind.iso_of(snapshot.as_of_ms)
    return [
        trade(plan, int(index), as_of, snapshot.source, params)
        for index in np.flatnonzero(drifts > params.drift_threshold)
    ]
