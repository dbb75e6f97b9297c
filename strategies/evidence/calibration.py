"""The calibrated probability of a new signal, and its expected value.

"Similar past signals" are the strategy's trades on the same side in the same
band of the idea's own risk/reward: for a price with no drift the chance of
reaching the target before the stop is about risk / (risk + reward), so the
risk/reward is what most moves the odds; a rule's own strength score was found
uncorrelated with outcomes, and is not used. Bands are fixed in advance (below,
not fitted), so a held-out check sees no choice made on its own data.

Rates are shrunk in two steps (beta-binomial: a Beta prior worth
PRIOR_STRENGTH_TRADES trades centred on the rate one level up): a side's rate
toward the strategy's rate over all its trades, then a band's rate toward its
side's. A band with a handful of trades says little more than its side, a side
with a handful little more than the strategy; hundreds speak for themselves.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from strategies.evidence.records import Calibration, Cell, Trade
from strategies.evidence.stats import shrunk_rate

# Risk/reward bands: below 0.75 (targets nearer than stops), 0.75-1.5, 1.5-2.5, 2.5+.
RR_BAND_EDGES = (0.75, 1.5, 2.5)
# The prior weighs as much as 20 trades: a band needs a few dozen of its own
# before its rate moves far from the strategy's.
PRIOR_STRENGTH_TRADES = 20.0
# Below this many trades over the whole strategy no probability is stated at all:
# a rate from fewer is mostly noise (its 95 % interval spans ±0.2 or more).
MIN_TRADES = 20
# The gross R of a miss assumed when a strategy has only hits so far: a full stop.
DEFAULT_MISS_R = -1.0


def band_of(risk_reward: float) -> int:
    return bisect.bisect_right(RR_BAND_EDGES, risk_reward)


@dataclass(slots=True)
class Tally:
    trades: int = 0
    hits: int = 0
    miss_r_sum: float = 0.0

    def add(self, trade: Trade) -> None:
        self.trades += 1
        if trade.hit:
            self.hits += 1
        else:
            self.miss_r_sum += trade.gross_r


@dataclass(slots=True)
class Counts:
    """Running tallies, overall and per (side, band)."""

    overall: Tally = field(default_factory=Tally)
    cells: dict[tuple[str, int], Tally] = field(default_factory=dict)

    def add(self, trade: Trade) -> None:
        self.overall.add(trade)
        self.cells.setdefault((trade.side, band_of(trade.risk_reward)), Tally()).add(trade)

    def frozen(self) -> Calibration:
        return Calibration(
            band_edges=list(RR_BAND_EDGES),
            prior_strength=PRIOR_STRENGTH_TRADES,
            trades=self.overall.trades,
            hits=self.overall.hits,
            miss_r_sum=self.overall.miss_r_sum,
            cells=[
                Cell(side, band, t.trades, t.hits, t.miss_r_sum)
                for (side, band), t in sorted(self.cells.items())
            ],
        )


def fit(trades: Iterable[Trade]) -> Calibration:
    counts = Counts()
    for trade in trades:
        counts.add(trade)
    return counts.frozen()


@dataclass(frozen=True, slots=True)
class Estimate:
    probability: float
    miss_r: float  # expected gross R of a miss (stop or horizon exit), usually negative
    # How many trades the probability rests on, its prior's weight included: its
    # own uncertainty is about probability * (1 - probability) / (weight + 1).
    weight: float

    @property
    def variance(self) -> float:
        """The variance of the probability as an estimate (of its Beta posterior)."""
        return self.probability * (1.0 - self.probability) / (self.weight + 1.0)


def estimate(calibration: Calibration, side: str, risk_reward: float) -> Estimate | None:
    """The shrunk hit rate of similar past signals; None below MIN_TRADES overall."""
    if calibration.trades < MIN_TRADES:
        return None
    strength = calibration.prior_strength
    overall = Estimate(
        calibration.hits / calibration.trades,
        mean_or(calibration.miss_r_sum, calibration.trades - calibration.hits, DEFAULT_MISS_R),
        calibration.trades,
    )
    side_cells = [cell for cell in calibration.cells if cell.side == side]
    sided = shrunk(overall, side_cells, strength)
    band = band_of(risk_reward)
    return shrunk(sided, [cell for cell in side_cells if cell.band == band], strength)


def shrunk(prior: Estimate, cells: list[Cell], strength: float) -> Estimate:
    """The pooled rate (and miss R) of ``cells`` shrunk toward ``prior``."""
    trades = sum(cell.trades for cell in cells)
    hits = sum(cell.hits for cell in cells)
    miss_r_sum = sum(cell.miss_r_sum for cell in cells)
    if trades + strength <= 0:
        return prior
    return Estimate(
        shrunk_rate(hits, trades, prior.probability, strength),
        shrunk_rate(miss_r_sum, trades - hits, prior.miss_r, strength),
        trades + strength,
    )


def mean_or(total: float, count: int, default: float) -> float:
    return total / count if count else default


def expected_value_pct(
    found: Estimate, reward_pct: float, risk_pct: float, fees_pct: float
) -> float:
    """Net expected return of taking the idea at its own levels, percent: the target's
    reward with the calibrated probability, else the average gross R of similar
    misses times the idea's risk, less the round-trip costs."""
    p = found.probability
    return p * reward_pct + (1.0 - p) * found.miss_r * risk_pct - fees_pct


def prequential(trades: Sequence[Trade]) -> list[Estimate | None]:
    """For each trade, the estimate made from the trades that closed before its signal:
    what a trader would have been told at the time (out of sample by construction)."""
    order = sorted(range(len(trades)), key=lambda i: trades[i].signal_ms)
    closing = sorted(trades, key=lambda trade: trade.exit_ms)
    counts = Counts()
    added = 0
    estimates: list[Estimate | None] = [None] * len(trades)
    for index in order:
        trade = trades[index]
        while added < len(closing) and closing[added].exit_ms < trade.signal_ms:
            counts.add(closing[added])
            added += 1
        estimates[index] = estimate(counts.frozen(), trade.side, trade.risk_reward)
    return estimates
