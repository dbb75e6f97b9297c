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
