"""Portfolio arithmetic shared by the holdings-based strategies.

Valuation of the user's holdings, aligned return matrices, Ledoit–Wolf
shrinkage, minimum-variance weights, historical VaR/CVaR, drawdown and beta.
Vectorised numpy throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.market_data import MarketSnapshot

CLOSE = ind.CLOSE
# Newton's method on the risk-parity problem converges quadratically: 50 steps
# is far more than it needs, and 1e-10 relative change is exact for weights.
RISK_PARITY_MAX_STEPS = 50
RISK_PARITY_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class Holdings:
    """The user's positions that the snapshot can price, in snapshot order."""

    symbols: tuple[str, ...]
    quantities: np.ndarray
    prices: np.ndarray  # last close of each symbol

    @property
    def values(self) -> np.ndarray:
        return ind.as_floats(self.quantities * self.prices)

    @property
    def total(self) -> float:
        return float(self.values.sum())

    @property
    def weights(self) -> np.ndarray:
        return self.values / self.total


@dataclass(frozen=True, slots=True)
class TailRisk:
    var: float  # loss (a positive fraction) not exceeded on `confidence` of days
    cvar: float  # mean loss on the days beyond the VaR
    tail_days: np.ndarray  # boolean mask of those days


def holdings_of(snapshot: MarketSnapshot) -> Holdings | None:
    """The priced, positive holdings, or None when there is nothing to manage."""
    held = [
        s
        for s in snapshot.symbols
        if snapshot.holdings.get(s, 0.0) > 0 and s in snapshot.candles_1h
    ]
    if not held:
        return None
    quantities = np.array([snapshot.holdings[s] for s in held], dtype=np.float64)
    prices = np.array([snapshot.candles_1h[s][-1, CLOSE] for s in held], dtype=np.float64)
    return Holdings(tuple(held), quantities, prices)


def close_matrix(
    snapshot: MarketSnapshot, symbols: tuple[str, ...], bars: int, step: int = 1
) -> np.ndarray:
    """Closes of ``symbols`` as columns: the last ``bars`` samples taken every ``step`` hours.

    Samples are counted back from the last bar so every column ends at the
    snapshot's as-of time; a symbol with too short a history shortens all.
    """
    series = [snapshot.candles_1h[s][::-1][::step][::-1, CLOSE] for s in symbols]
    usable = min(bars, *(len(column) for column in series))
    return np.column_stack([column[-usable:] for column in series]).astype(np.float64)


def log_returns(closes: np.ndarray) -> np.ndarray:
    return np.diff(np.log(closes), axis=0)


def ledoit_wolf(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit–Wolf (2004) shrinkage of the sample covariance toward a scaled identity.

    Returns the shrunk covariance and the shrinkage intensity in [0, 1]; the
    intensity is the closed-form optimum, so no tuning parameter is needed.
    """
    samples, assets = returns.shape
    centred = returns - returns.mean(axis=0)
    sample = centred.T @ centred / samples
    mu = np.trace(sample) / assets
    target = mu * np.eye(assets)
    squared = centred**2
    # Variance of the sample covariance's entries (the estimation noise) ...
    noise = float(np.sum(squared.T @ squared) / samples - np.sum(sample**2)) / samples
    # ... against how far the sample covariance sits from the target.
    distance = float(np.sum((sample - target) ** 2))
    intensity = 0.0 if distance == 0 else min(1.0, max(0.0, noise / distance))
    return (1.0 - intensity) * sample + intensity * target, intensity


def minimum_variance(covariance: np.ndarray) -> np.ndarray:
    """Long-only minimum-variance weights (summing to 1).

    The unconstrained solution is Σ⁻¹1 / 1ᵀΣ⁻¹1; an asset it shorts is removed
    (a spot account holds no negative weights) and the rest re-solved.
    """
    active = np.ones(len(covariance), dtype=bool)
    weights = np.zeros(len(covariance))
    while active.any():
        sub = covariance[np.ix_(active, active)]
        raw = np.linalg.solve(sub, np.ones(int(active.sum())))
        solved = raw / raw.sum()
        if np.all(solved >= 0):
            weights[active] = solved
            return weights
        active[np.flatnonzero(active)[int(np.argmin(solved))]] = False
    return weights


def risk_parity(covariance: np.ndarray) -> np.ndarray:
    """Equal-risk-contribution weights (summing to 1), by Newton's method.

    Minimises ½yᵀΣy - Σ log(y)/n, whose minimiser normalised to sum 1 gives
    every asset the same share of the portfolio variance (Spinu 2013); the
    problem is strictly convex, so Newton converges in a few steps.
    """
    budget = np.full(len(covariance), 1.0 / len(covariance))
    y = budget / np.sqrt(np.diag(covariance))
    for _ in range(RISK_PARITY_MAX_STEPS):
        gradient = covariance @ y - budget / y
        step = np.linalg.solve(covariance + np.diag(budget / y**2), gradient)
        # Halve the step until y stays positive (the log barrier's domain).
        while np.any(y - step <= 0):
            step /= 2
        y -= step
        if np.max(np.abs(step / y)) < RISK_PARITY_TOLERANCE:
            break
    return ind.as_floats(y / y.sum())


def historical_tail(returns: np.ndarray, confidence: float) -> TailRisk:
    """Historical VaR and CVaR of a return series at ``confidence`` (e.g. 0.95)."""
    losses = -returns
    var = float(np.quantile(losses, confidence))
    tail = losses >= var
    return TailRisk(var=var, cvar=float(losses[tail].mean()), tail_days=tail)


def drawdown(values: np.ndarray) -> float:
    """How far (a fraction) the last value sits below the series' peak."""
    return float(1.0 - values[-1] / values.max())


def betas(returns: np.ndarray, market: np.ndarray) -> np.ndarray:
    """OLS beta of each column of ``returns`` to ``market``."""
    market_centred = market - market.mean()
    centred = returns - returns.mean(axis=0)
    return ind.as_floats((market_centred @ centred) / (market_centred @ market_centred))


def mean_correlation(returns: np.ndarray) -> float:
    """Average pairwise correlation of the columns (NaN with fewer than two)."""
    if returns.shape[1] < 2:
        return float("nan")
    matrix = np.corrcoef(returns, rowvar=False)
    upper = np.triu_indices_from(matrix, k=1)
    return float(matrix[upper].mean())
