"""The one shape every strategy returns."""

from __future__ import annotations

import enum
import math

import msgspec

# Prices keep 10 significant digits: finer than any exchange tick, from BTC to
# sub-cent coins, and free of float noise like 160.79999999999973.
PRICE_DIGITS = 10
# Confidence to 4 decimals, expected return to 6 (0.0001 %), risk/reward to 4.
CONFIDENCE_DECIMALS, RETURN_DECIMALS, RATIO_DECIMALS = 4, 6, 4


class EvidenceStatus(enum.StrEnum):
    READY = "ready"  # the strategy's walk-forward evaluation is attached
    COMPUTING = "computing"  # it is being computed for this data version: no numbers yet
    UNAVAILABLE = "unavailable"  # it cannot be estimated; ``evidence_note`` says why


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """How a strategy's past signals turned out, walk-forward on the source's history.

    ``hit_rate`` is the share of trades whose target was reached before the stop
    within the horizon, with its 95 % Wilson interval; percentages are net of
    the taker fee both ways plus slippage (``fees_pct_round_trip``). Rates and
    averages are None when there were no trades.
    """

    trades: int
    hit_rate: float | None
    hit_rate_low: float | None
    hit_rate_high: float | None
    expectancy_r: float | None  # mean net return in units of each idea's own risk
    expectancy_pct_net: float | None  # mean net return per trade, percent
    avg_win_pct: float | None  # mean net return of the trades that made money, percent
    avg_loss_pct: float | None  # mean net loss of the trades that lost (a positive percent)
    window_start: str | None  # ISO-8601 UTC: the first signal evaluated ...
    window_end: str | None  # ... and the last bar the trades were followed to
    fees_pct_round_trip: float


class Opportunity(msgspec.Struct, frozen=True, kw_only=True):
    """A concrete, actionable trade idea.

    ``stop`` and ``target`` sit on the correct sides of ``entry`` for ``side``
    (below/above for ``long``, above/below for ``short``). ``expected_return``
    is the distance from entry to target (what the idea makes if it works), not
    an expectation; ``expected_value_pct`` is the expectation. ``confidence`` is
    the calibrated ``probability`` once evidence is attached (None while it is
    not); the rule's own score is what a strategy run sets before that.
    """

    strategy: str
    symbol: str
    side: str  # "long" or "short"
    entry: float
    stop: float
    target: float
    confidence: float | None  # 0..1; the probability once evidence is attached
    expected_return: float  # fraction of entry, e.g. 0.021 for +2.1 %
    risk_reward: float
    horizon: str  # human horizon, e.g. "1-3 days"
    rationale: str  # one sentence with the numbers that triggered it
    data_source: str
    as_of: str  # ISO-8601 UTC time of the market data the idea is based on
    # Evidence (attached after the rule ran, never by the rule; defaults keep
    # records stored before evidence existed decodable):
    # the calibrated chance that the target is hit before the stop within the horizon,
    probability: float | None = None
    # the net expected return of taking the trade, percent,
    expected_value_pct: float | None = None
    # this strategy on this symbol, and on every symbol, walk-forward,
    evidence: Evidence | None = None
    evidence_all: Evidence | None = None
    evidence_status: str = EvidenceStatus.UNAVAILABLE
    evidence_note: str | None = None


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
