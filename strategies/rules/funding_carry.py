"""funding_carry: long spot / short perp when the annualised funding rate,
net of round-trip fees, exceeds a threshold, or when the perp premium's
z-score exceeds 2 (the premium is rich and pays to be sold).

What to do: buy spot and sell the same quantity of its linear perpetual, both
market orders, as one idea (``legs``: spot long and perp short, ratio 1 each,
under one ``group_id``; the row is the spot leg). The position is
delta-neutral, so a spot price stop or target means nothing: both are null and
``levels_note`` says when it exits (the carry collected over 14 days, 336
hourly bars, or the premium blowing out against the short perp). Skips:
``no_perpetual``, ``no_funding_data``, ``insufficient_history`` (fewer than two
hours with both spot and perp closes), ``no_signal`` with the funding and the
premium it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, SkipCode, collect, insufficient, quiet
from strategies.market_data import MarketSnapshot, perpetual_symbol
from strategies.opportunity import Opportunity, OrderType, leg, make_opportunity
from strategies.scoring import blend

NAME = "funding_carry"
DAYS_PER_YEAR = 365
FUNDING_TIME, FUNDING_RATE = 0, 1
PERP_TIME, PERP_CLOSE = 0, 1
# A z-score needs a mean and a spread: two samples at the very least.
MIN_PREMIUM_SAMPLES = 2


@dataclass(frozen=True, slots=True)
class Params:
    # The last 3 days of 8-hourly funding (9 payments): recent, yet not one print.
    funding_records: int = 9
    funding_per_day: int = 3
    # A carry is held about two weeks; its fees are spread over that.
    holding_days: float = 14.0
    # Spot buy+sell and perp sell+buy: four taker fills.
    fee_legs: int = 4
    default_taker_fee: float = 0.001
    # 10 % a year net: clearly above stablecoin lending yields.
    min_net_annual: float = 0.10
    # The premium's z-score against its last 30 days of hourly values.
    premium_lookback_bars: int = 30 * ind.HOURS_PER_DAY
    premium_z: float = 2.0
    # The trade is wrong if the premium blows out by 3 of its sigmas (liquidation risk on the perp).
    stop_premium_sigmas: float = 3.0
    # 30 % a year net is as good as carry gets.
    full_net_annual: float = 0.30
    confidence_floor: float = 0.4
    # Spot and perp of equal quantity: the price exposure cancels.
    hedge_ratio: float = 1.0


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Carry:
    funding_annual: float
    net_annual: float
    premium: float
    premium_z: float
    premium_sigma: float

    def pays(self, params: Params) -> bool:
        return self.net_annual > params.min_net_annual or self.premium_z > params.premium_z

    def expected_gain(self, params: Params) -> float:
        """The larger of the net carry over the holding and a rich premium's return to its mean."""
        carry = max(self.net_annual, 0.0) * params.holding_days / DAYS_PER_YEAR
        return max(carry, max(self.premium_z, 0.0) * self.premium_sigma)

    def adverse_move(self, params: Params) -> float:
        """The premium blow-out (as a fraction of price) that ends the trade."""
        return params.stop_premium_sigmas * max(self.premium_sigma, abs(self.premium))


def premium_series(spot: np.ndarray, perp: np.ndarray) -> np.ndarray:
    """perp/spot - 1 on the hours both series have."""
    _, spot_at, perp_at = np.intersect1d(spot[:, ind.TIME], perp[:, PERP_TIME], return_indices=True)
    return ind.as_floats(perp[perp_at, PERP_CLOSE] / spot[spot_at, ind.CLOSE] - 1.0)


def carry_of(
    symbol: str,
    spot: np.ndarray,
    perp: np.ndarray,
    funding: np.ndarray,
    taker: float,
    params: Params,
) -> Carry | Skip:
    premium = premium_series(spot, perp)[-params.premium_lookback_bars :]
    if len(premium) < MIN_PREMIUM_SAMPLES:
        return insufficient(
            symbol, len(premium), MIN_PREMIUM_SAMPLES, "hours with both spot and perpetual closes"
        )
    funding_annual = (
        float(np.mean(funding[-params.funding_records :, FUNDING_RATE]))
        * params.funding_per_day
        * DAYS_PER_YEAR
    )
    fees_annual = params.fee_legs * taker * DAYS_PER_YEAR / params.holding_days
    sigma = float(premium.std(ddof=1))
    z = float((premium[-1] - premium.mean()) / sigma) if sigma > 0 else 0.0
    return Carry(funding_annual, funding_annual - fees_annual, float(premium[-1]), z, sigma)


def missing_data(symbol: str, snapshot: MarketSnapshot) -> Skip | None:
    """Why the carry cannot be judged for lack of a series, if it cannot."""
    if len(snapshot.perp_1h.get(symbol, ())) == 0:
        return Skip(
            symbol=symbol,
            code=SkipCode.NO_PERPETUAL,
            message=f"no perpetual ({perpetual_symbol(symbol)}) closes",
        )
    if len(snapshot.funding.get(symbol, ())) == 0:
        return Skip(symbol=symbol, code=SkipCode.NO_FUNDING_DATA, message="no funding-rate records")
    return None


def no_carry(symbol: str, carry: Carry, params: Params) -> Skip:
    return quiet(
        symbol,
        f"funding {carry.funding_annual:.1%} a year, {carry.net_annual:.1%} after fees (needs "
        f"{params.min_net_annual:.0%}); perp premium {carry.premium:.3%} at z "
        f"{carry.premium_z:+.2f} (needs {params.premium_z:g}), premium stop "
        f"{carry.adverse_move(params):.3%}",
    )


def evaluate(
    symbol: str, snapshot: MarketSnapshot, params: Params = DEFAULTS
) -> Opportunity | Skip:
    missing = missing_data(symbol, snapshot)
    if missing is not None:
        return missing
    spot, perp = snapshot.hourly(symbol), snapshot.perp_1h[symbol]
    market: dict[str, Any] = snapshot.markets.get(symbol, {})
    carry = carry_of(
        symbol,
        spot,
        perp,
        snapshot.funding[symbol],
        float(market.get("taker", params.default_taker_fee)),
        params,
    )
    if isinstance(carry, Skip):
        return carry
    if not carry.pays(params) or not 0 < carry.adverse_move(params) < 1:
        return no_carry(symbol, carry, params)
    entry, perp_price = float(spot[-1, ind.CLOSE]), float(perp[-1, PERP_CLOSE])
    gain, adverse = carry.expected_gain(params), carry.adverse_move(params)
    return make_opportunity(
        strategy=NAME,
        symbol=symbol,
        side="long",
        entry=entry,
        target=None,
        stop=None,
        levels_note=(
            f"delta-neutral: spot moves do not matter. Exit after {params.holding_days:g} days "
            f"(about {gain:.3%} carry expected), or when the perp premium rises "
            f"{adverse:.3%} against the short perp ({params.stop_premium_sigmas:g} of its sigmas)"
        ),
        confidence=blend(params.confidence_floor, carry.net_annual / params.full_net_annual),
        horizon=f"{params.holding_days:g} days",
        rationale=(
            f"long spot / short perp: funding {carry.funding_annual:.1%} a year, "
            f"{carry.net_annual:.1%} after {params.fee_legs} taker fees over "
            f"{params.holding_days:g} days; perp premium {carry.premium:.3%} "
            f"(z {carry.premium_z:+.2f})"
        ),
        data_source=snapshot.source,
        as_of=ind.iso_of(spot[-1, ind.TIME]),
        horizon_bars=round(params.holding_days * ind.HOURS_PER_DAY),
        group_id=f"{NAME}:{symbol}",
        legs=[
            leg(symbol, "long", params.hedge_ratio, OrderType.MARKET, entry),
            leg(
                perpetual_symbol(symbol), "short", params.hedge_ratio, OrderType.MARKET, perp_price
            ),
        ],
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    return collect(evaluate(symbol, snapshot, params) for symbol in snapshot.symbols)
