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
