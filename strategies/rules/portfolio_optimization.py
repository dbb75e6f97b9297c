"""portfolio_optimization: target weights from a Ledoit–Wolf-shrunk covariance
of daily returns (risk parity by default, long-only minimum variance on
request), against the user's holdings; trade each holding whose weight is
more than 2 % off its target.

Risk parity is the default because crypto returns share one dominant factor:
minimum variance then piles everything into the least volatile coins (70 %
BTC and 30 % ETH, nothing in the rest, on the bundled data), which is a
corner solution, not advice.

What to do: rebalance (action ``rebalance``): a market buy or sell of each
holding off its target, all trades one idea (one ``group_id``; ``legs`` lists
every trade, its ratio the share of the portfolio's value it moves). A
rebalance has no price target or stop: both are null and ``levels_note`` says
when to review (14 days, 336 hourly bars). ``evaluated`` counts the holdings;
each within the band is skipped ``no_signal`` with its weight and target.
Portfolio-wide skips (symbol ``*``): ``no_holdings`` when fewer than two
priced holdings, ``insufficient_history`` when fewer daily closes than a
covariance needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies import portfolio as pf
from strategies.findings import (
    DAILY,
    PORTFOLIO,
    Findings,
    SkipCode,
    collect,
    insufficient,
    judged_whole,
    portfolio_skip,
    quiet,
)
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Action, Leg, Opportunity, OrderType, leg, make_opportunity
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
    # Rebalancing has no directional edge and no price levels: it is reviewed
    # every two weeks.
    review_days: int = 14
    # Ten points of drift is a badly unbalanced portfolio.
    full_drift: float = 0.10
    confidence_floor: float = 0.3


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Plan:
    """Target weights for the holdings and what they were derived from."""

    holdings: pf.Holdings
    targets: np.ndarray
    shrinkage: float


def plan_of(snapshot: MarketSnapshot, params: Params) -> Plan | Findings:
    """The plan, or the portfolio-wide reason there is none."""
    holdings = pf.holdings_of(snapshot)
    held = 0 if holdings is None else len(holdings.symbols)
    if holdings is None or held < MIN_ASSETS:
        return judged_whole(
            portfolio_skip(
                SkipCode.NO_HOLDINGS, f"{held} priced holdings; a rebalance needs {MIN_ASSETS}"
            )
        )
    days = params.lookback_days + 1
    returns = pf.log_returns(pf.close_matrix(snapshot, holdings.symbols, days, ind.HOURS_PER_DAY))
    if len(returns) <= held:  # fewer days than coins: no covariance worth the name
        return judged_whole(insufficient(PORTFOLIO, len(returns) + 1, held + 2, DAILY))
    covariance, shrinkage = pf.ledoit_wolf(returns)
    targets = METHODS[params.method](covariance)
    return Plan(holdings, targets, shrinkage)


def trade(
    plan: Plan, index: int, legs: list[Leg], as_of: str, source: str, params: Params
) -> Opportunity:
    holdings = plan.holdings
    target, held = float(plan.targets[index]), float(holdings.weights[index])
    drift = target - held
    direction = LONG if drift > 0 else SHORT
    entry = float(holdings.prices[index])
    return make_opportunity(
        strategy=NAME,
        symbol=holdings.symbols[index],
        side=side_of(direction),
        entry=entry,
        stop=None,
        target=None,
        levels_note=(
            "a rebalance trades toward target weights, not toward a price: review in "
            f"{params.review_days} days"
        ),
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
        action=Action.REBALANCE,
        horizon_bars=params.review_days * ind.HOURS_PER_DAY,
        group_id=f"{NAME}:{params.method}",
        legs=legs,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    plan = plan_of(snapshot, params)
    if isinstance(plan, Findings):
        return plan
    holdings = plan.holdings
    drifts = plan.targets - holdings.weights
    trading = np.abs(drifts) > params.drift_threshold
    legs = [
        leg(
            holdings.symbols[i],
            side_of(LONG if drifts[i] > 0 else SHORT),
            abs(float(drifts[i])),
            OrderType.MARKET,
            float(holdings.prices[i]),
        )
        for i in np.flatnonzero(trading)
    ]
    as_of = ind.iso_of(snapshot.as_of_ms)
    return collect(
        trade(plan, index, legs, as_of, snapshot.source, params)
        if trading[index]
        else quiet(
            symbol,
            f"weight {holdings.weights[index]:.1%} vs target {plan.targets[index]:.1%}: "
            f"within ±{params.drift_threshold:.0%}",
        )
        for index, symbol in enumerate(holdings.symbols)
    )
