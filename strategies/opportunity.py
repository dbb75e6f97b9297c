"""The one shape every strategy returns: a trade idea that says what to do.

A single-leg idea is one row: open a position (``open_long``/``open_short``)
with a market, limit or stop order at ``entry``, exit at ``stop`` or
``target``. A multi-leg idea (a pair, a carry, a bracket, a grid, two-sided
quotes, a rebalance) carries every order it needs in ``legs``, and each of its
rows shares one ``group_id``. Where a price stop or target means nothing for the
idea (a pair exits on its spread's z-score), the level is ``None`` and
``levels_note`` says why; ``expected_return`` and ``risk_reward`` are then 0.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

import msgspec

from strategies.errors import LevelsUnexplained

# Prices keep 10 significant digits: finer than any exchange tick, from BTC to
# sub-cent coins, and free of float noise like 160.79999999999973.
PRICE_DIGITS = 10
# Confidence to 4 decimals, expected return to 6 (0.0001 %), risk/reward to 4.
CONFIDENCE_DECIMALS, RETURN_DECIMALS, RATIO_DECIMALS = 4, 6, 4
LONG_SIDE, SHORT_SIDE = "long", "short"


class Action(enum.StrEnum):
    """What the trader does."""

    OPEN_LONG = "open_long"  # buy to open (spot, or a long perp)
    OPEN_SHORT = "open_short"  # sell to open (a short perp or margin)
    REDUCE = "reduce"  # sell part of a holding, or protect it with a stop
    HEDGE = "hedge"  # offset the holdings' market exposure
    REBALANCE = "rebalance"  # trade holdings toward target weights
    QUOTE = "quote"  # rest passive bid/ask orders (market making)


class OrderType(enum.StrEnum):
    LIMIT = "limit"  # rests at the price; fills there or better
    MARKET = "market"  # now, at the best price available
    STOP = "stop"  # becomes a market order once the price trades through it


class Leg(msgspec.Struct, frozen=True, kw_only=True):
    """One order of a multi-leg idea.

    ``ratio`` is the leg's quantity share of the idea (a grid level's share of
    the grid, a rebalance trade's share of the portfolio's value) or its hedge
    ratio against the first leg (a pair's second leg, a carry's perp).
    """

    symbol: str
    side: str  # "long" (buy) or "short" (sell)
    ratio: float
    order_type: OrderType
    price: float


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

    Where set, ``stop`` and ``target`` sit on the correct sides of ``entry``
    for ``side`` (below/above for ``long``, above/below for ``short``).
    Records stored before ``action`` and the other order fields existed decode
    as a single-leg market order opening their side. ``expected_return`` is the
    distance from entry to target (what the idea makes if it works), not an
    expectation; ``expected_value_pct`` is the expectation. ``confidence`` is the
    calibrated ``probability`` once evidence is attached (None while it is not);
    the rule's own score is what a strategy run sets before that.
    """

    strategy: str
    symbol: str
    side: str  # "long" or "short"
    entry: float
    stop: float | None
    target: float | None
    confidence: float | None  # 0..1; the probability once evidence is attached
    expected_return: float  # distance to target, a fraction of entry (0 without a target)
    risk_reward: float  # target distance / stop distance (0 without both)
    horizon: str  # human horizon, e.g. "1-3 days"
    rationale: str  # one sentence with the numbers that triggered it
    data_source: str
    as_of: str  # ISO-8601 UTC time of the market data the idea is based on
    # Unique inside one scan's results: "<strategy>:<symbol>:<side>[:<suffix>]".
    opportunity_id: str = ""
    action: Action = Action.OPEN_LONG
    order_type: OrderType = OrderType.MARKET
    group_id: str | None = None  # shared by the rows of one multi-leg idea
    legs: list[Leg] = msgspec.field(default_factory=list)  # empty for a single-leg idea
    levels_note: str | None = None  # why stop or target is None
    # opportunity_ids of this scan's other ideas on one of this idea's symbols, in
    # the opposite direction (set where a scan's results are assembled).
    conflicts: list[str] = msgspec.field(default_factory=list)
    horizon_bars: int = 0  # the horizon in hourly bars (0: unknown, an old record)
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

    def __post_init__(self) -> None:
        # Old records: derive what they lacked from what they had.
        if not self.opportunity_id:
            msgspec.structs.force_setattr(
                self, "opportunity_id", opportunity_id_of(self.strategy, self.symbol, self.side)
            )
        if self.action == Action.OPEN_LONG and self.side == SHORT_SIDE:
            msgspec.structs.force_setattr(self, "action", Action.OPEN_SHORT)


def opportunity_id_of(strategy: str, symbol: str, side: str, suffix: str | None = None) -> str:
    base = f"{strategy}:{symbol}:{side}"
    return f"{base}:{suffix}" if suffix else base


def opening(side: str) -> Action:
    return Action.OPEN_LONG if side == LONG_SIDE else Action.OPEN_SHORT


def significant(value: float, digits: int = PRICE_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def level(value: float | None) -> float | None:
    return None if value is None else significant(float(value))


def leg(symbol: str, side: str, ratio: float, order_type: OrderType, price: float) -> Leg:
    """A leg with its price and ratio rounded as an opportunity's levels are."""
    return Leg(
        symbol=symbol,
        side=side,
        ratio=significant(float(ratio)),
        order_type=order_type,
        price=significant(float(price)),
    )


def make_opportunity(
    *,
    strategy: str,
    symbol: str,
    side: str,
    entry: float,
    stop: float | None,
    target: float | None,
    confidence: float,
    horizon: str,
    rationale: str,
    data_source: str,
    as_of: str,
    action: Action | None = None,
    order_type: OrderType = OrderType.MARKET,
    horizon_bars: int = 0,
    group_id: str | None = None,
    legs: Sequence[Leg] = (),
    levels_note: str | None = None,
    id_suffix: str | None = None,
) -> Opportunity:
    """An Opportunity with expected return and risk/reward derived from its levels.

    ``action`` defaults to opening ``side``. A missing ``stop`` or ``target``
    needs a ``levels_note`` saying why; expected return is then 0 without a
    target and risk/reward 0 without either (there is no distance to state).
    """
    if (stop is None or target is None) and not levels_note:
        raise LevelsUnexplained(strategy, symbol)
    entry = float(entry)
    reward = None if target is None else abs(float(target) - entry)
    risk = None if stop is None else abs(entry - float(stop))
    return Opportunity(
        strategy=strategy,
        symbol=symbol,
        side=side,
        entry=significant(entry),
        stop=level(stop),
        target=level(target),
        confidence=round(min(1.0, max(0.0, float(confidence))), CONFIDENCE_DECIMALS),
        expected_return=round(reward / entry, RETURN_DECIMALS) if reward is not None else 0.0,
        risk_reward=round(reward / risk, RATIO_DECIMALS) if reward is not None and risk else 0.0,
        horizon=horizon,
        rationale=rationale,
        data_source=data_source,
        as_of=as_of,
        opportunity_id=opportunity_id_of(strategy, symbol, side, id_suffix),
        action=action or opening(side),
        order_type=order_type,
        group_id=group_id,
        legs=list(legs),
        levels_note=levels_note,
        horizon_bars=horizon_bars,
    )
