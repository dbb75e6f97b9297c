"""The statistics evidence is made of: Wilson intervals, shrunk rates, losing runs."""

from __future__ import annotations

import math
from collections.abc import Iterable

# The 97.5th percentile of the standard normal: a two-sided 95 % interval.
Z_95 = 1.959963984540054


def wilson_interval(hits: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's (1927) score interval for a binomial proportion.

    Unlike the normal approximation it stays inside [0, 1] and keeps its
    coverage for small samples and rates near 0 or 1, which is where a
    strategy's evidence usually is. ``trials`` must be positive.
    """
    if trials <= 0:
        raise ValueError("a Wilson interval needs at least one trial")
    if not 0 <= hits <= trials:
        raise ValueError(f"hits {hits} outside 0..{trials}")
    rate = hits / trials
    z2 = z * z
    centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials)
    spread = math.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials))
    half = z * spread / (1 + z2 / trials)
    # At 0 or all hits the interval ends exactly at 0 or 1; floats land a hair off.
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == trials else min(1.0, centre + half)
    return low, high


def shrunk_rate(hits: float, trials: float, prior_rate: float, prior_strength: float) -> float:
    """A rate shrunk toward ``prior_rate``: the posterior mean of a beta-binomial
    whose Beta prior has mean ``prior_rate`` and weighs ``prior_strength`` trials.

    With few trials the answer stays near the prior; with many, near hits/trials.
    """
    if trials < 0 or prior_strength < 0 or trials + prior_strength <= 0:
        raise ValueError("need trials + prior_strength > 0, neither negative")
    return (hits + prior_strength * prior_rate) / (trials + prior_strength)


def worst_losing_run(returns: Iterable[float]) -> int:
    """The longest run of consecutive losing trades (returns below 0), in order."""
    worst = current = 0
    for value in returns:
        current = current + 1 if value < 0 else 0
        worst = max(worst, current)
    return worst
