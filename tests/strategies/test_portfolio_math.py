import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import portfolio as pf


def reference_ledoit_wolf(returns: np.ndarray) -> float:
    """Ledoit & Wolf (2004), lemma 3.2-3.4, written as sums over observations."""
    n, p = returns.shape
    x = returns - returns.mean(axis=0)
    sample = x.T @ x / n
    mu = np.trace(sample) / p
    d2 = np.sum((sample - mu * np.eye(p)) ** 2)
    b2 = sum(np.sum((np.outer(row, row) - sample) ** 2) for row in x) / n**2
    return float(min(b2, d2) / d2)


def returns_matrix(seed: int, assets: int, samples: int = 90) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(assets, assets)) * 0.01
    return rng.standard_normal((samples, assets)) @ mixing


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8))
def test_ledoit_wolf_intensity_matches_the_paper(seed: int, assets: int) -> None:
    returns = returns_matrix(seed, assets)
    shrunk, intensity = pf.ledoit_wolf(returns)
    assert intensity == pytest.approx(reference_ledoit_wolf(returns), rel=1e-9)
    assert np.all(np.linalg.eigvalsh(shrunk) > 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8))
def test_risk_parity_equalises_risk_contributions(seed: int, assets: int) -> None:
    covariance, _ = pf.ledoit_wolf(returns_matrix(seed, assets))
    weights = pf.risk_parity(covariance)
    contributions = weights * (covariance @ weights)
    assert weights.sum() == pytest.approx(1.0) and np.all(weights > 0)
    np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8))
def test_minimum_variance_is_long_only_and_beats_equal_weights(seed: int, assets: int) -> None:
    covariance, _ = pf.ledoit_wolf(returns_matrix(seed, assets))
    weights = pf.minimum_variance(covariance)
    equal = np.full(assets, 1.0 / assets)
    assert weights.sum() == pytest.approx(1.0) and np.all(weights >= 0)
    assert weights @ covariance @ weights <= equal @ covariance @ equal + 1e-15


def test_minimum_variance_of_two_uncorrelated_assets() -> None:
    weights = pf.minimum_variance(np.diag([1.0, 4.0]))
    np.testing.assert_allclose(weights, [0.8, 0.2])


def test_historical_tail_and_drawdown() -> None:
    returns = np.array([-0.10, -0.05, 0.0, 0.01, 0.02] * 4)
    tail = pf.historical_tail(returns, 0.95)
    assert tail.var == pytest.approx(np.quantile(-returns, 0.95))
    assert tail.cvar == pytest.approx(0.10)
    assert pf.drawdown(np.array([100.0, 120.0, 90.0])) == pytest.approx(0.25)


def test_betas() -> None:
    rng = np.random.default_rng(1)
    market = rng.standard_normal(500)
    np.testing.assert_allclose(
        pf.betas(np.column_stack([2 * market, -market]), market), [2.0, -1.0]
    )
