"""The stochastic building blocks of the bundled dataset (docs/bundled-data.md).

Each block is a pure function of a numpy ``Generator`` and its parameters, so
the dataset is a deterministic function of one seed. Time runs in hours; each
hour is split into ``SUBSTEPS`` five-minute steps, so intrabar highs and lows
come from the simulated path rather than from a formula on the close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUBSTEPS = 12  # five-minute steps per hour
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Regime:
    """One state of the market's Markov chain."""

    name: str
    drift_h: float  # the market factor's log-return drift per hour
    vol_multiplier: float  # scales the market factor's GARCH sigma
    mean_days: float  # expected stay: leaves with probability 1 / (24 * mean_days) per hour
    premium: float  # mean perpetual premium (fraction of spot) for a coin of beta 1


def transition_matrix(regimes: tuple[Regime, ...], exits: np.ndarray) -> np.ndarray:
    """Hourly transition probabilities: stay for ``mean_days`` on average, then leave
    to the others in the proportions of ``exits`` (a row-stochastic matrix, zero diagonal)."""
    leave = np.array([1.0 / (HOURS_PER_DAY * r.mean_days) for r in regimes])
    matrix = np.asarray(exits * leave[:, None])
    matrix[np.diag_indices(len(regimes))] = 1.0 - leave
    return matrix


def stationary_distribution(matrix: np.ndarray) -> np.ndarray:
    """The long-run share of hours in each state (left eigenvector for eigenvalue 1)."""
    values, vectors = np.linalg.eig(matrix.T)
    vector = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return np.asarray(vector / vector.sum())


def regime_path(rng: np.random.Generator, matrix: np.ndarray, hours: int) -> np.ndarray:
    """The regime of every hour, started from the chain's stationary distribution."""
    cumulative = np.cumsum(matrix, axis=1)
    draws = rng.random(hours + 1)
    state = int(np.searchsorted(np.cumsum(stationary_distribution(matrix)), draws[0]))
    path = np.empty(hours, dtype=np.int64)
    for t in range(hours):
        state = min(int(np.searchsorted(cumulative[state], draws[t + 1])), len(matrix) - 1)
        path[t] = state
    return path


def garch_unit_sigmas(shocks: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """GARCH(1,1) sigmas of unit long-run variance for each column of standard-normal
    ``shocks`` (hours, n): h_t = (1 - a - b) + a h_{t-1} z_{t-1}^2 + b h_{t-1}.
    A series of long-run sigma s is s times this (the recursion is scale-free)."""
    omega = 1.0 - alpha - beta
    variance = np.ones(shocks.shape[1])
    sigmas = np.empty_like(shocks)
    for t in range(len(shocks)):
        sigmas[t] = np.sqrt(variance)
        variance = omega + (alpha * shocks[t] ** 2 + beta) * variance
    return sigmas


def compound_poisson(
    rng: np.random.Generator, hours: int, intensity_h: float, mean: float, sd: float
) -> np.ndarray:
    """Jumps (hours, SUBSTEPS) in log price: a Poisson number per hour with Normal(mean, sd)
    sizes, all of one hour's jumps landing on one random five-minute step."""
    counts = rng.poisson(intensity_h, hours)
    sizes = counts * mean + np.sqrt(counts) * sd * rng.standard_normal(hours)
    steps = rng.integers(SUBSTEPS, size=hours)
    jumps = np.zeros((hours, SUBSTEPS))
    jumps[np.arange(hours), steps] = np.where(counts > 0, sizes, 0.0)
    return jumps


def ar1(shocks: np.ndarray, persistence: float, start: np.ndarray | float = 0.0) -> np.ndarray:
    """x_t = persistence * x_{t-1} + shock_t along axis 0 (an Ornstein-Uhlenbeck
    process sampled at a fixed step)."""
    path = np.empty_like(shocks)
    value = np.zeros(shocks.shape[1:]) + start
    for t in range(len(shocks)):
        value = persistence * value + shocks[t]
        path[t] = value
    return path


def persistence_of(half_life_steps: float) -> float:
    """The AR(1) coefficient whose deviations halve in ``half_life_steps``."""
    return float(0.5 ** (1.0 / half_life_steps))


def intraday_profile(hour_of_day: np.ndarray, amplitude: float, peak_hour: float) -> np.ndarray:
    """A daily cycle 1 + amplitude * cos(...) peaking at ``peak_hour`` UTC, scaled to a
    mean square of 1 over the day (it reshapes volatility without changing its level)."""
    day = np.arange(HOURS_PER_DAY)
    cycle = 1.0 + amplitude * np.cos(2 * np.pi * (day - peak_hour) / HOURS_PER_DAY)
    cycle /= np.sqrt(np.mean(cycle**2))
    return np.asarray(cycle[hour_of_day])


def bridge_extremes(
    rng: np.random.Generator, start: np.ndarray, end: np.ndarray, variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The maximum and minimum of a Brownian bridge from ``start`` to ``end`` with
    total ``variance``, sampled exactly: max = (a + b + sqrt((b - a)^2 - 2 v ln U)) / 2
    (the reflection principle), and the minimum alike with an independent U."""
    mid, gap = (start + end) / 2.0, (end - start) ** 2
    uniforms = 1.0 - rng.random((2, *np.shape(start)))  # in (0, 1]: log is finite
    high = mid + np.sqrt(gap - 2.0 * variance * np.log(uniforms[0])) / 2.0
    low = mid - np.sqrt(gap - 2.0 * variance * np.log(uniforms[1])) / 2.0
    return high, low


def premium_path(
    rng: np.random.Generator,
    returns: np.ndarray,
    means: np.ndarray,
    half_life_h: float,
    sensitivity: float,
    noise: float,
) -> np.ndarray:
    """Perpetual premium (hours, n): p_t = p_{t-1} + k (m_t - p_{t-1}) + c r_t + s e_t,
    mean-reverting to the regime's ``means`` and pushed up by the coin's own returns
    (longs crowd into rallies), k = 1 - 0.5^(1 / half_life)."""
    keep = persistence_of(half_life_h)
    shocks = (1.0 - keep) * means + sensitivity * returns + noise * rng.standard_normal(means.shape)
    return ar1(shocks, keep, start=means[0])


def funding_rates(
    premium: np.ndarray, interval_h: int, interest: float, clamp: float, cap: float
) -> np.ndarray:
    """Funding per interval (the common exchange formula): the interval's mean premium
    P plus clamp(interest - P, -clamp, clamp), capped at +-cap."""
    mean = premium.reshape(-1, interval_h, *premium.shape[1:]).mean(axis=1)
    return np.asarray(np.clip(mean + np.clip(interest - mean, -clamp, clamp), -cap, cap))
