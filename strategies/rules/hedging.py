"""hedging: rolling beta of each holding to BTC; when the portfolio's beta
exceeds its limit, short the BTC perpetual for beta × exposure."""

from __future__ import annotations

import math
from dataclasses import dataclass

from strategies import indicators as ind
from strategies import portfolio as pf
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import blend

NAME = "hedging"
BENCHMARK = "BTC/USDT"
# ccxt's name of the linear perpetual on the benchmark (settled in USDT).
BENCHMARK_PERP = "BTC/USDT:USDT"
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


DEFAULTS = Params()


def perp_price(snapshot: MarketSnapshot) -> float:
    """The BTC perpetual's last price, or BTC spot's where the source has no perp."""
    perp = snapshot.perp_1h.get(BENCHMARK)
    if perp is not None and len(perp):
        return float(perp[-1, PERP_CLOSE])
    return float(snapshot.candles_1h[BENCHMARK][-1, ind.CLOSE])


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    holdings = pf.holdings_of(snapshot)
    if holdings is None or BENCHMARK not in snapshot.candles_1h:
        return []
    symbols = (*holdings.symbols, BENCHMARK)
    returns = pf.log_returns(pf.close_matrix(snapshot, symbols, params.window_bars + 1))
    betas = pf.betas(returns[:, :-1], returns[:, -1])
    exposure = holdings.total
    portfolio_beta = float(betas @ holdings.weights)
    if not portfolio_beta > params.max_beta:
        return []
    entry = perp_price(snapshot)
    daily_sigma = float(returns[:, -1].std(ddof=1)) * math.sqrt(ind.HOURS_PER_DAY)
    hedge_notional = portfolio_beta * exposure
    move = params.review_sigmas * daily_sigma
    each_beta = ", ".join(f"{s} {b:.2f}" for s, b in zip(holdings.symbols, betas, strict=True))
    return [
        make_opportunity(
            strategy=NAME,
            symbol=BENCHMARK_PERP,
            side="short",
            entry=entry,
            stop=entry * (1.0 + move),
            target=entry * (1.0 - move),
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
        )
    ]
