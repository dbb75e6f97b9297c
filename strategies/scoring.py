"""How strategies turn the strength of a signal into a confidence in [0, 1].

Every strategy states a floor (the confidence a bare, just-triggered signal
earns) and the signal strength it treats as "full"; the rest is this one
linear blend, so confidences mean the same thing across strategies.
"""

from __future__ import annotations

import math

LONG, SHORT = 1, -1


def unit(value: float) -> float:
    """``value`` clipped to [0, 1]; a NaN counts as no evidence (0)."""
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, value))


def blend(floor: float, strength: float) -> float:
    """``floor`` for a bare signal, rising linearly to 1 at full ``strength`` (1.0)."""
    return floor + (1.0 - floor) * unit(strength)


def side_of(direction: int) -> str:
    return "long" if direction == LONG else "short"
