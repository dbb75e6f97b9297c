"""risk_management: historical VaR/CVaR at 95 %, drawdown and correlation
spikes on the user's holdings. Breached VaR or drawdown limits -> de-risk the
holdings that drive the tail; a correlation spike alone -> tighten stops.

What to do: de-risking sells part of each holding that carries more than its
equal share of the tail loss (action ``reduce``, a market sell, now: 24 hourly
bars). Tightening places a protective sell stop under each holding (action
``reduce``, order type ``stop``, ``entry`` the trigger price) until
correlations normalise (a week, 168 hourly bars). Neither is a trade with a
price target: stop and target are null and ``levels_note`` says why.
``evaluated`` counts the holdings when trades are per holding (the others are
skipped ``no_signal`` with their share), and the portfolio as one (symbol
``*``) when it is judged as a whole: ``no_holdings``, ``insufficient_history``
under 31 daily closes, or ``no_signal`` with VaR, drawdown and correlations.
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
from strategies.opportunity import Action, Opportunity, OrderType, make_opportunity
from strategies.scoring import blend

NAME = "risk_management"


@dataclass(frozen=True, slots=True)
class Params:
    # A 95 % one-day VaR over 90 days: the catalogue's level; ~4-5 tail days.
    confidence: float = 0.95
    lookback_days: int = 90
    # A 95 % VaR from fewer than 30 daily returns rests on one tail day.
    min_days: int = 30
    # Losing more than 6 % of the portfolio on one day in twenty is more than a
    # diversified crypto book should risk (BTC alone is ~5 %).
    var_limit: float = 0.06
    # 20 % below the 90-day peak: a drawdown that calls for cutting risk.
    drawdown_limit: float = 0.20
    # Correlation of hourly returns in the last week vs the 90-day window: a rise
    # of 0.15 means diversification is disappearing.
    spike_bars: int = 7 * ind.HOURS_PER_DAY
    correlation_spike: float = 0.15
    # A rise of 0.3 (e.g. 0.5 -> 0.8) is as complete a loss of diversification as it gets.
    full_spike: float = 0.30
    # A de-risking sale is done within the day.
    derisk_bars: int = ind.HOURS_PER_DAY
    # Tightened stops sit half a daily VaR under the price (normally a full one).
    tight_stop_vars: float = 0.5
    confidence_floor: float = 0.5


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class RiskReport:
    tail: pf.TailRisk
    drawdown: float
    correlation_recent: float
    correlation_base: float
    contributions: np.ndarray  # each holding's share of the CVaR loss
    asset_vars: np.ndarray  # each holding's own one-day VaR

    def breached(self, params: Params) -> bool:
        return self.tail.var > params.var_limit or self.drawdown > params.drawdown_limit

    def spiked(self, params: Params) -> bool:
        return self.correlation_recent - self.correlation_base > params.correlation_spike


def report_of(snapshot: MarketSnapshot, holdings: pf.Holdings, params: Params) -> RiskReport:
    daily = pf.close_matrix(snapshot, holdings.symbols, params.lookback_days + 1, ind.HOURS_PER_DAY)
    asset_returns = np.expm1(pf.log_returns(daily))
    portfolio_values = daily @ holdings.quantities
    portfolio_returns = np.diff(portfolio_values) / portfolio_values[:-1]
    tail = pf.historical_tail(portfolio_returns, params.confidence)
    tail_pnl = -(asset_returns[tail.tail_days] * holdings.values).mean(axis=0)
    hourly = pf.log_returns(
        pf.close_matrix(snapshot, holdings.symbols, params.lookback_days * ind.HOURS_PER_DAY)
    )
    asset_vars = np.array(
        [
            pf.historical_tail(asset_returns[:, i], params.confidence).var
            for i in range(len(holdings.symbols))
        ]
    )
    return RiskReport(
        tail=tail,
        drawdown=pf.drawdown(portfolio_values),
        correlation_recent=pf.mean_correlation(hourly[-params.spike_bars :]),
        correlation_base=pf.mean_correlation(hourly),
        contributions=tail_pnl / tail_pnl.sum() if tail_pnl.sum() > 0 else np.zeros(len(tail_pnl)),
        asset_vars=asset_vars,
    )


def summary(report: RiskReport, params: Params) -> str:
    return (
        f"portfolio 1-day VaR{params.confidence:.0%} {report.tail.var:.1%} "
        f"(limit {params.var_limit:.0%}), CVaR {report.tail.cvar:.1%}, drawdown "
        f"{report.drawdown:.1%} (limit {params.drawdown_limit:.0%}), mean correlation "
        f"{report.correlation_recent:.2f} this week vs {report.correlation_base:.2f}"
    )


def sale(
    snapshot: MarketSnapshot, holdings: pf.Holdings, report: RiskReport, index: int, params: Params
) -> Opportunity:
    """Sell part of a holding that carries more than its equal share of the tail loss."""
    return make_opportunity(
        strategy=NAME,
        symbol=holdings.symbols[index],
        side="short",
        entry=float(holdings.prices[index]),
        stop=None,
        target=None,
        levels_note="de-risking sells a holding now; a sale has no stop or target",
        confidence=blend(params.confidence_floor, float(report.contributions[index])),
        horizon="now (de-risk)",
        rationale=(
            f"de-risk: {summary(report, params)}; {holdings.symbols[index]} carries "
            f"{report.contributions[index]:.0%} of the tail loss"
        ),
        data_source=snapshot.source,
        as_of=ind.iso_of(snapshot.as_of_ms),
        action=Action.REDUCE,
        horizon_bars=params.derisk_bars,
    )


def derisk(
    snapshot: MarketSnapshot, holdings: pf.Holdings, report: RiskReport, params: Params
) -> Findings:
    """Sell the holdings carrying more than their equal share of the tail loss."""
    fair_share = 1.0 / len(holdings.symbols)
    return collect(
        sale(snapshot, holdings, report, index, params)
        if report.contributions[index] > fair_share
        else quiet(
            symbol,
            f"carries {report.contributions[index]:.0%} of the tail loss, within its equal "
            f"share {fair_share:.0%}",
        )
        for index, symbol in enumerate(holdings.symbols)
    )


def protective_stop(
    snapshot: MarketSnapshot, holdings: pf.Holdings, report: RiskReport, index: int, params: Params
) -> Opportunity:
    """A sell stop half a daily VaR under a holding's price."""
    entry, var = float(holdings.prices[index]), float(report.asset_vars[index])
    trigger = entry * (1.0 - params.tight_stop_vars * var)
    spike = report.correlation_recent - report.correlation_base
    return make_opportunity(
        strategy=NAME,
        symbol=holdings.symbols[index],
        side="short",
        entry=trigger,
        stop=None,
        target=None,
        levels_note=(
            f"a protective sell stop on the holding: it sells at {trigger:.6g} if the price "
            "falls there, and has no target"
        ),
        confidence=blend(params.confidence_floor, spike / params.full_spike),
        horizon="until correlations normalise",
        rationale=f"tighten the stop to {trigger:.6g}: {summary(report, params)}",
        data_source=snapshot.source,
        as_of=ind.iso_of(snapshot.as_of_ms),
        action=Action.REDUCE,
        order_type=OrderType.STOP,
        horizon_bars=params.spike_bars,
    )


def tighten(
    snapshot: MarketSnapshot, holdings: pf.Holdings, report: RiskReport, params: Params
) -> Findings:
    """Keep every holding but move its stop to half a daily VaR under the price."""
    return collect(
        protective_stop(snapshot, holdings, report, index, params)
        if report.asset_vars[index] > 0.0
        # Its worst days were gains: no loss to put a stop against.
        else quiet(symbol, f"no down days in its {params.confidence:.0%} tail to set a stop by")
        for index, symbol in enumerate(holdings.symbols)
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    holdings = pf.holdings_of(snapshot)
    if holdings is None:
        return judged_whole(portfolio_skip(SkipCode.NO_HOLDINGS, "no priced holdings to measure"))
    days = len(
        pf.close_matrix(snapshot, holdings.symbols, params.lookback_days + 1, ind.HOURS_PER_DAY)
    )
    if days <= params.min_days:
        return judged_whole(insufficient(PORTFOLIO, days, params.min_days + 1, DAILY))
    report = report_of(snapshot, holdings, params)
    if report.breached(params):
        return derisk(snapshot, holdings, report, params)
    if report.spiked(params):
        return tighten(snapshot, holdings, report, params)
    return judged_whole(portfolio_skip(SkipCode.NO_SIGNAL, summary(report, params)))
