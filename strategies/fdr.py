"""False discovery rate control for a family of hypothesis tests."""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Which tests are discoveries at false discovery rate ``rate``, and their q-values.

    Benjamini–Hochberg (1995): with the m p-values sorted, the discoveries are
    the k smallest, k the largest rank with p_(k) <= k·rate/m. The q-value of a
    test is the smallest rate at which it would be a discovery.
    """
    count = len(p_values)
    if count == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    order = np.argsort(p_values)
    ranked = p_values[order] * count / np.arange(1, count + 1)
    # The q-value of rank k is the smallest scaled p-value at rank k or later.
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q_values = np.empty(count)
    q_values[order] = np.minimum(q_sorted, 1.0)
    return q_values <= rate, q_values
