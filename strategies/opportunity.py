"""The one shape every strategy returns."""

from __future__ import annotations

import msgspec


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
    reward = abs(target - entry)
    risk = abs(entry - stop)
    return Opportunity(
        strategy=strategy,
        symbol=symbol,
        side=side,
        entry=round(entry, 8),
        stop=round(stop, 8),
        target=round(target, 8),
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        expected_return=round(reward / entry, 6),
        risk_reward=round(reward / risk, 4) if risk else 0.0,
        horizon=horizon,
        rationale=rationale,
        data_source=data_source,
        as_of=as_of,
    )
