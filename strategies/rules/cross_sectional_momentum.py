"""cross_sectional_momentum: rank symbols by 30-day return over 30-day
volatility; long the top, short (or avoid) the bottom."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "cross_sectional_momentum"


@dataclass(frozen=True, slots=True)
class Params:
    # Thirty days of hourly bars: the lookback of the catalogue's rule.
    lookback_bars: int = 30 * ind.HOURS_PER_DAY
    # Long the top fifth, short the bottom fifth (2 of the 10 bundled pairs each).
    tail_fraction: float = 0.2
    # Ranking fewer than five symbols says nothing about the cross-section.
    min_universe: int = 5
    # Cross-sectional momentum persists for about a week before it fades.
    holding_bars: int = 7 * ind.HOURS_PER_DAY
    # One weekly sigma against the position means the ranking is stale; 1.5 sigma
    # in favour is a realistic weekly gain for a top-ranked coin (1.5 R).
    stop_sigmas: float = 1.0
    target_sigmas: float = 1.5
    # A 30-day return of two 30-day sigmas is an exceptionally clean trend.
    full_score: float = 2.0
    confidence_floor: float = 0.35


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Ranked:
    symbol: str
    score: float  # 30-day log return / 30-day volatility
    total_return: float
    hourly_sigma: float
    close: float
    as_of: str


def ranked(snapshot: MarketSnapshot, params: Params) -> list[Ranked]:
    """Symbols with enough history, best score first."""
    rows = []
    for symbol, candles in snapshot.candles_1h.items():
        if len(candles) <= params.lookback_bars:
            continue
        close = np.asarray(candles[-(params.lookback_bars + 1) :, ind.CLOSE], dtype=np.float64)
        returns = ind.log_returns(close)
        sigma = float(returns.std(ddof=1))
        total = float(returns.sum())
        if sigma > 0:
            score = total / (sigma * math.sqrt(params.lookback_bars))
            rows.append(
                Ranked(
                    symbol, score, total, sigma, float(close[-1]), ind.iso_of(candles[-1, ind.TIME])
                )
            )
    return sorted(rows, key=lambda row: row.score, reverse=True)


def opportunity_for(
    row: Ranked, rank: int, universe: int, direction: int, source: str, params: Params
) -> Opportunity:
    horizon_sigma = row.hourly_sigma * math.sqrt(params.holding_bars)
    entry = row.close
    return make_opportunity(
        strategy=NAME,
        symbol=row.symbol,
        side=side_of(direction),
        entry=entry,
        stop=entry * math.exp(-direction * params.stop_sigmas * horizon_sigma),
        target=entry * math.exp(direction * params.target_sigmas * horizon_sigma),
        confidence=blend(params.confidence_floor, abs(row.score) / params.full_score),
        horizon=f"{params.holding_bars // ind.HOURS_PER_DAY} days",
        rationale=(
            f"ranked {rank} of {universe} by {params.lookback_bars // ind.HOURS_PER_DAY}-day "
            f"return/volatility: return "
            f"{math.expm1(row.total_return):+.1%} over volatility "
            f"{row.hourly_sigma * math.sqrt(params.lookback_bars):.1%} (score {row.score:+.2f})"
        ),
        data_source=source,
        as_of=row.as_of,
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> list[Opportunity]:
    rows = ranked(snapshot, params)
    if len(rows) < params.min_universe:
        return []
    tail = max(1, int(len(rows) * params.tail_fraction))
    found = [
        opportunity_for(row, rank, len(rows), LONG, snapshot.source, params)
        for rank, row in enumerate(rows[:tail], start=1)
        if row.score > 0
    ]
    found += [
        opportunity_for(row, len(rows) - tail + rank, len(rows), SHORT, snapshot.source, params)
        for rank, row in enumerate(rows[-tail:], start=1)
        if row.score < 0
    ]
    return found
