"""The one shape every strategy returns."""

from __future__ import annotations

import math

import msgspec

# Prices keep 10 significant digits: finer than any exchange tick, from BTC to
# sub-cent coins, and free of float noise like 160.79999999999973.
PRICE_DIGITS = 10
# Confidence to 4 decimals, expected return to 6 (0.0001 %), risk/reward to 4.
CONFIDENCE_DECIMALS, RETURN_DECIMALS, RATIO_DECIMALS = 4, 6, 4


class Opportunity(msgspec.Struct, frozen=True, kw_only=True):
    """A concrete, actionable trade idea.

    ``stop`` and ``target`` sit on the correct sides of ``entry`` for ``side``
    (below/above for ``long``, above/below for ``short``).
    """

    strategy: str
    symbol: str
    side: str  # "long" or "short"
    entry: float
    stop: float
    target: float
    confidence: float  # 0..1
    expected_return: float  # fraction of entry, e.g. 0.021 for +2.1 %
    risk_reward: float
    horizon: str  # human horizon, e.g. "1-3 days"
    rationale: str  # one sentence with the numbers that triggered it
    data_source: str
    as_of: str  # ISO-8601 UTC time of the market data the idea is based on


def significant(value: float, digits: int = PRICE_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def make_opportunity(
    *,
    strategy: str,
    symbol: str,
    side: str,
    entry: float,
    stop: float,
    target: float,
    confidence: float,
    horizon: str,
    rationale: str,
    data_source: str,
    as_of: str,
) -> Opportunity:
    """An Opportunity with expected return and risk/reward derived from its levels."""
    entry, stop, target = float(entry), float(stop), float(target)
    reward = abs(target - entry)
    risk = abs(entry - stop)
    return Opportunity(
        strategy=strategy,
        symbol=symbol,
        side=side,
        entry=significant(entry),
        stop=significant(stop),
        target=significant(target),
        confidence=round(min(1.0, max(0.0, float(confidence))), CONFIDENCE_DECIMALS),
        expected_return=round(reward / entry, RETURN_DECIMALS),
        risk_reward=round(reward / risk, RATIO_DECIMALS) if risk else 0.0,
        horizon=horizon,
        rationale=rationale,
        data_source=data_source,
        as_of=as_of,
    )
