"""Engle–Granger cointegration with a fixed ADF lag, in numpy.

The same test as ``statsmodels.tsa.stattools.coint(y, x, trend="c",
maxlag=lags, autolag=None)`` (the test suite checks the values against it):
an OLS of ``y`` on ``x`` with a constant, then an augmented Dickey–Fuller
regression without deterministic terms on the residuals, and MacKinnon's
(1994) approximate p-value for two I(1) series with a constant. statsmodels
stays a test dependency; the runtime needs only numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# MacKinnon (1994) response-surface coefficients for N = 2 series with a
# constant ("c"), exactly as statsmodels.tsa.adfvalues holds them (index 1 of
# each "c" table). The statistic's range outside which the p-value is 1 or 0:
TAU_MAX, TAU_MIN = 0.92, -18.86
# Below TAU_STAR the small-p polynomial applies, above it the large-p one.
TAU_STAR = -2.62
TAU_SMALL_P = (2.92, 1.5012, 0.039796)
TAU_LARGE_P = (2.1945, 0.64695, -0.29198, -0.042377)
# Residuals this close to perfectly explained make the test meaningless;
# statsmodels' threshold (1 - 100·sqrt(machine epsilon)), mirrored so values agree.
COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class EngleGranger:
    t_stat: float
    p_value: float
    hedge_ratio: float  # OLS slope of y on x
    intercept: float
    residuals: np.ndarray  # y - intercept - hedge_ratio·x, the spread


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def mackinnon_p(t_stat: float) -> float:
    """MacKinnon's asymptotic p-value of an Engle–Granger t statistic (N=2, constant)."""
    if t_stat > TAU_MAX:
        return 1.0
    if t_stat < TAU_MIN:
        return 0.0
    coefficients = TAU_SMALL_P if t_stat <= TAU_STAR else TAU_LARGE_P
    return normal_cdf(sum(c * t_stat**power for power, c in enumerate(coefficients)))


def ols(y: np.ndarray, regressors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, their standard errors and the residuals of y on ``regressors``."""
    coefficients, *_ = np.linalg.lstsq(regressors, y, rcond=None)
    residuals = y - regressors @ coefficients
    dof = len(y) - regressors.shape[1]
    variance = residuals @ residuals / dof
    covariance = variance * np.linalg.inv(regressors.T @ regressors)
    return coefficients, np.sqrt(np.diag(covariance)), residuals


def adf_t_stat(series: np.ndarray, lags: int) -> float:
    """ADF t statistic without constant or trend, with exactly ``lags`` lagged differences."""
    diffs = np.diff(series)
    rows = len(diffs) - lags
    columns = [series[lags:-1]] + [
        diffs[lags - lag : lags - lag + rows] for lag in range(1, lags + 1)
    ]
    coefficients, errors, _ = ols(diffs[lags:], np.column_stack(columns))
    return float(coefficients[0] / errors[0])


def engle_granger(y: np.ndarray, x: np.ndarray, lags: int) -> EngleGranger:
    """Test whether ``y`` and ``x`` (e.g. log prices) are cointegrated."""
    regressors = np.column_stack([x, np.ones_like(x)])
    (slope, intercept), _, residuals = ols(y, regressors)
    centred = y - y.mean()
    r_squared = 1.0 - (residuals @ residuals) / (centred @ centred)
    t_stat = adf_t_stat(residuals, lags) if r_squared < COLLINEAR_R2 else -math.inf
    return EngleGranger(t_stat, mackinnon_p(t_stat), float(slope), float(intercept), residuals)


@dataclass(frozen=True, slots=True)
class EngleGrangerBatch:
    """:func:`engle_granger` of many pairs, one row per pair."""

    t_stats: np.ndarray
    p_values: np.ndarray
    hedge_ratios: np.ndarray
    intercepts: np.ndarray
    residuals: np.ndarray  # (pairs, bars)


def engle_granger_many(y: np.ndarray, x: np.ndarray, lags: int) -> EngleGrangerBatch:
    """The Engle–Granger test of each row of ``y`` against the same row of ``x``.

    The same regressions as :func:`engle_granger`, solved for all pairs at once
    through their normal equations (closed form for the cointegrating OLS): a
    scan's hundreds of pairs cost one numpy pass instead of hundreds of calls.
    """
    x_mean, y_mean = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    x_centred, y_centred = x - x_mean, y - y_mean
    slopes = (x_centred * y_centred).sum(axis=1) / (x_centred * x_centred).sum(axis=1)
    intercepts = y_mean[:, 0] - slopes * x_mean[:, 0]
    residuals = y - intercepts[:, None] - slopes[:, None] * x
    r_squared = 1.0 - (residuals * residuals).sum(axis=1) / (y_centred * y_centred).sum(axis=1)
    collinear = ~(r_squared < COLLINEAR_R2)
    diffs = np.diff(residuals, axis=1)
    rows = diffs.shape[1] - lags
    design = np.stack(
        [residuals[:, lags:-1]]
        + [diffs[:, lags - lag : lags - lag + rows] for lag in range(1, lags + 1)],
        axis=2,
    )
    target = diffs[:, lags:, None]
    transposed = design.transpose(0, 2, 1)
    normal = transposed @ design  # batched matrix products: one BLAS call per pair
    normal[collinear] = np.eye(lags + 1)  # their statistic is -inf whatever the solve gives
    coefficients = np.linalg.solve(normal, transposed @ target)
    errors = (target - design @ coefficients)[..., 0]
    variance = (errors * errors).sum(axis=1) / (rows - (lags + 1))
    standard_error = np.sqrt(variance * np.linalg.inv(normal)[:, 0, 0])
    t_stats = np.where(collinear, -math.inf, coefficients[:, 0, 0] / standard_error)
    p_values = np.array([mackinnon_p(float(t)) for t in t_stats])
    return EngleGrangerBatch(t_stats, p_values, slopes, intercepts, residuals)


def half_life_bars(spread: np.ndarray) -> float:
    """Bars for a deviation of the spread to halve, from an AR(1) fit with a constant.

    Δs_t = a + b·s_{t-1}: the spread reverts at rate φ = 1 + b per bar, so a gap
    halves in ln ½ / ln φ bars. Infinite when it does not revert (φ ≥ 1), and
    meaningless when it overshoots (φ ≤ 0), which counts as infinite too.
    """
    level, change = spread[:-1], np.diff(spread)
    centred = level - level.mean()
    denominator = float(centred @ centred)
    if denominator == 0:
        return math.inf
    phi = 1.0 + float(centred @ (change - change.mean())) / denominator
    if not 0.0 < phi < 1.0:
        return math.inf
    return math.log(0.5) / math.log(phi)
