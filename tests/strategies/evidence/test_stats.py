"""Wilson intervals, shrinkage and losing runs against values computed by hand."""

from __future__ import annotations

import pytest

from strategies.evidence.stats import shrunk_rate, wilson_interval, worst_losing_run


def test_wilson_interval_matches_the_published_example():
    # Newcombe (1998), table I: 81 of 263 -> 0.2553 to 0.3662 (score method).
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_interval_stays_inside_0_1_at_the_edges():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    _, high = wilson_interval(0, 10)
    assert high == pytest.approx(0.2775, abs=1e-4)  # Newcombe's 0/10 row: 0 to 0.2775


@pytest.mark.parametrize(("hits", "trials"), [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(hits, trials):
    with pytest.raises(ValueError):
        wilson_interval(hits, trials)


def test_shrunk_rate_is_the_beta_binomial_posterior_mean():
    assert shrunk_rate(3, 4, 0.5, 20) == pytest.approx(13 / 24)
    assert shrunk_rate(0, 0, 0.3, 20) == pytest.approx(0.3)
    assert shrunk_rate(900, 1000, 0.5, 20) == pytest.approx(910 / 1020)


def test_worst_losing_run():
    assert worst_losing_run([1, -1, -2, 3, -1, -1, -1, 0, -5]) == 3
    assert worst_losing_run([]) == 0
