"""hedging: rolling beta of each holding to BTC; when the portfolio's beta
exceeds its limit, short the BTC perpetual for beta × exposure.

What to do: hedge (action ``hedge``): a market sell of the BTC perpetual,
``legs`` holding that hedge leg with its hedge ratio (the portfolio's beta:
BTC notional per unit of the holdings' value; the holdings are the other side,
already held) under one ``group_id``. A hedge is held with the holdings, not
closed at a price: stop and target are null and ``levels_note`` gives the
BTC move that calls for a review; evidence follows it a week (168 hourly
bars). The portfolio is judged as one candidate (symbol ``*``):
``no_holdings``, ``no_benchmark`` when BTC/USDT is not in the scan,
``insufficient_history`` under 721 hourly candles, ``no_signal`` with the beta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from strategies import indicators as ind
from strategies import portfolio as pf
from strategies.findings import (
    PORTFOLIO,
    Findings,
    SkipCode,
    insufficient,
    judged_whole,
    portfolio_skip,
)
from strategies.market_data import MarketSnapshot, perpetual_symbol
from strategies.opportunity import Action, OrderType, leg, make_opportunity
from strategies.scoring import blend

NAME = "hedging"
BENCHMARK = "BTC/USDT"
BENCHMARK_PERP = perpetual_symbol(BENCHMARK)
PERP_CLOSE = 1


@dataclass(frozen=True, slots=True)
class Params:
    # Betas from the last 30 days of hourly returns: recent enough to track regime changes.
    window_bars: int = 30 * ind.HOURS_PER_DAY
    # A portfolio moving more than the market itself is levered to it: hedge above beta 1.
    max_beta: float = 1.0
    # The hedge is reviewed after a 2-daily-sigma BTC move either way.
    review_sigmas: float = 2.0
    # Half a beta above the limit is a fully convincing case for the hedge.
    full_excess_beta: float = 0.5
    confidence_floor: float = 0.5
    # A hedge is held with the holdings; its outcome is judged over a week.
    review_bars: int = 7 * ind.HOURS_PER_DAY


DEFAULTS = Params()


def perp_price(snapshot: MarketSnapshot) -> float:
    """The BTC perpetual's last price, or BTC spot's where the source has no perp."""
    perp = snapshot.perp_1h.get(BENCHMARK)
    if perp is not None and len(perp):
        return float(perp[-1, PERP_CLOSE])
    return float(snapshot.candles_1h[BENCHMARK][-1, ind.CLOSE])


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    holdings = pf.holdings_of(snapshot)
    if holdings is None:
        return judged_whole(portfolio_skip(SkipCode.NO_HOLDINGS, "no priced holdings to hedge"))
    if len(snapshot.hourly(BENCHMARK)) == 0:
        return judged_whole(
            portfolio_skip(
                SkipCode.NO_BENCHMARK, f"betas are measured against {BENCHMARK}, not in this scan"
            )
        )
    symbols = (*holdings.symbols, BENCHMARK)
    closes = pf.close_matrix(snapshot, symbols, params.window_bars + 1)
    if len(closes) <= params.window_bars:
        return judged_whole(insufficient(PORTFOLIO, len(closes), params.window_bars + 1))
    returns = pf.log_returns(closes)
    betas = pf.betas(returns[:, :-1], returns[:, -1])
    exposure = holdings.total
    portfolio_beta = float(betas @ holdings.weights)
    each_beta = ", ".join(f"{s} {b:.2f}" for s, b in zip(holdings.symbols, betas, strict=True))
    if not portfolio_beta > params.max_beta:
        return judged_whole(
            portfolio_skip(
                SkipCode.NO_SIGNAL,
                f"portfolio beta to BTC {portfolio_beta:.2f} within {params.max_beta:g} on "
                f"${exposure:,.0f} exposure ({each_beta})",
            )
        )
    entry = perp_price(snapshot)
    daily_sigma = float(returns[:, -1].std(ddof=1)) * math.sqrt(ind.HOURS_PER_DAY)
    hedge_notional = portfolio_beta * exposure
    move = params.review_sigmas * daily_sigma
    hedge = make_opportunity(
        strategy=NAME,
        symbol=BENCHMARK_PERP,
        side="short",
        entry=entry,
        stop=None,
        target=None,
        levels_note=(
            f"a hedge is held with the holdings, not closed at a price: review it after a "
            f"{move:.1%} BTC move either way ({params.review_sigmas:g} daily sigmas)"
        ),
        confidence=blend(
            params.confidence_floor,
            (portfolio_beta - params.max_beta) / params.full_excess_beta,
        ),
        horizon="while the holdings are held",
        rationale=(
            f"portfolio beta to BTC {portfolio_beta:.2f} > {params.max_beta:g} on "
            f"${exposure:,.0f} exposure ({each_beta}): short {hedge_notional / entry:.4g} "
            f"BTC perp (${hedge_notional:,.0f} = beta x exposure)"
        ),
        data_source=snapshot.source,
        as_of=ind.iso_of(snapshot.as_of_ms),
        action=Action.HEDGE,
        horizon_bars=params.review_bars,
        group_id=f"{NAME}:{BENCHMARK_PERP}",
        legs=[leg(BENCHMARK_PERP, "short", portfolio_beta, OrderType.MARKET, entry)],
    )
    return Findings(opportunities=[hedge], evaluated=1)
