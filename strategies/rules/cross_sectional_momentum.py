"""cross_sectional_momentum: rank symbols by 30-day return over 30-day
volatility; long the top, short (or avoid) the bottom.

What to do: open a long on each top-ranked symbol and a short on each
bottom-ranked one, each a market order at the last close, held a week (168
hourly bars) unless its stop or target comes first. Each row stands alone
(single-leg): a trader may take the longs without the shorts. Skips:
``insufficient_history`` under 721 hourly candles, ``too_few_symbols`` for
every ranked symbol when fewer than five can be ranked, ``no_signal`` with the
rank and score of the middle of the ranking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.findings import Findings, Skip, SkipCode, collect, insufficient, quiet
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


def ranked(snapshot: MarketSnapshot, params: Params) -> tuple[list[Ranked], list[Skip]]:
    """Symbols with enough history, best score first; why the others are not ranked."""
    rows, skipped = [], []
    for symbol in snapshot.symbols:
        candles = snapshot.hourly(symbol)
        if len(candles) <= params.lookback_bars:
            skipped.append(insufficient(symbol, len(candles), params.lookback_bars + 1))
            continue
        close = np.asarray(candles[-(params.lookback_bars + 1) :, ind.CLOSE], dtype=np.float64)
        returns = ind.log_returns(close)
        sigma = float(returns.std(ddof=1))
        total = float(returns.sum())
        if not sigma > 0:
            skipped.append(quiet(symbol, "flat closes: no volatility to rank by"))
            continue
        score = total / (sigma * math.sqrt(params.lookback_bars))
        rows.append(
            Ranked(symbol, score, total, sigma, float(close[-1]), ind.iso_of(candles[-1, ind.TIME]))
        )
    return sorted(rows, key=lambda row: row.score, reverse=True), skipped


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
        horizon_bars=params.holding_bars,
    )


def judged(
    row: Ranked, rank: int, universe: int, tail: int, source: str, params: Params
) -> Opportunity | Skip:
    """Long a top-tail row with a positive score, short a bottom-tail one with a negative."""
    if rank <= tail and row.score > 0:
        return opportunity_for(row, rank, universe, LONG, source, params)
    if rank > universe - tail and row.score < 0:
        return opportunity_for(row, rank, universe, SHORT, source, params)
    place = f"ranked {rank} of {universe}"
    if rank <= tail:
        return quiet(row.symbol, f"{place} but its score {row.score:+.2f} is not positive")
    if rank > universe - tail:
        return quiet(row.symbol, f"{place} but its score {row.score:+.2f} is not negative")
    return quiet(
        row.symbol, f"{place} (score {row.score:+.2f}): not among the {tail} best or worst"
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    rows, skipped = ranked(snapshot, params)
    evaluated = len(rows) + len(skipped)
    if len(rows) < params.min_universe:
        skipped += [
            Skip(
                symbol=row.symbol,
                code=SkipCode.TOO_FEW_SYMBOLS,
                message=f"{len(rows)} of {params.min_universe} symbols with "
                f"{params.lookback_bars // ind.HOURS_PER_DAY} days of history to rank",
            )
            for row in rows
        ]
        return Findings(opportunities=[], evaluated=evaluated, skipped=skipped)
    tail = max(1, int(len(rows) * params.tail_fraction))
    outcomes = collect(
        judged(row, rank, len(rows), tail, snapshot.source, params)
        for rank, row in enumerate(rows, start=1)
    )
    return Findings(
        opportunities=outcomes.opportunities,
        evaluated=evaluated,
        skipped=skipped + outcomes.skipped,
    )
