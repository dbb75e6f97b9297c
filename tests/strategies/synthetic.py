"""Constructed market data for strategy tests, and the checks every opportunity must pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from strategies.findings import Findings, Skip, SkipCode
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Action, Opportunity, OrderType, opening

HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
END_MS = 1_764_547_200_000
SOURCE = "test-constructed"
DEFAULT_VOLUME = 1000.0


def candles(
    closes: Sequence[float] | np.ndarray,
    *,
    half_range: float | np.ndarray = 0.5,
    volume: float | np.ndarray = DEFAULT_VOLUME,
    step_ms: int = HOUR_MS,
    end_ms: int = END_MS,
) -> np.ndarray:
    """ccxt rows [ms, o, h, l, c, v]: open at the previous close, high/low ``half_range`` off close.

    With every close-to-close step at most ``half_range`` the true range of each
    bar is exactly ``2 * half_range``, so ATR is known without computing it.
    """
    close = np.asarray(closes, dtype=np.float64)
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.broadcast_to(np.asarray(half_range, dtype=np.float64), close.shape)
    high = np.maximum(close + spread, open_)
    low = np.minimum(close - spread, open_)
    stamps = end_ms - step_ms * np.arange(close.size)[::-1]
    volumes = np.broadcast_to(np.asarray(volume, dtype=np.float64), close.shape)
    return np.column_stack([stamps, open_, high, low, close, volumes])


def path(*legs: tuple[int, float], start: float = 100.0) -> np.ndarray:
    """Closes made of legs of (bars, step per bar)."""
    steps = np.concatenate([np.full(bars, step) for bars, step in legs])
    return start + np.concatenate([[0.0], np.cumsum(steps)])


def zigzag(bars: int, amplitude: float, level: float = 100.0) -> np.ndarray:
    """A range-bound series alternating ``level`` and ``level + amplitude``."""
    return level + amplitude * (np.arange(bars) % 2)


def snapshot(
    candles_1h: dict[str, np.ndarray] | None = None,
    *,
    candles_5m: dict[str, np.ndarray] | None = None,
    perp_1h: dict[str, Any] | None = None,
    funding: dict[str, Any] | None = None,
    markets: dict[str, dict[str, Any]] | None = None,
    holdings: dict[str, float] | None = None,
) -> MarketSnapshot:
    """A snapshot of constructed hourly series (and whatever else a test gives)."""
    series = candles_1h or {}
    return MarketSnapshot(
        source=SOURCE,
        as_of_ms=END_MS,
        symbols=tuple(series) or tuple(candles_5m or {}),
        candles_1h=series,
        candles_5m=candles_5m or {},
        perp_1h=perp_1h or {},
        funding=funding or {},
        markets=markets or {},
        holdings=holdings or {},
    )


def wilder_atr(bars: np.ndarray, period: int = 14) -> np.ndarray:
    """Reference ATR (Wilder 1978): a plain loop, independent of TA-Lib."""
    high, low, close = bars[:, 2], bars[:, 3], bars[:, 4]
    true_range = np.maximum(high[1:], close[:-1]) - np.minimum(low[1:], close[:-1])
    out = np.full(len(close), np.nan)
    value = true_range[:period].mean()
    out[period] = value
    for t in range(period + 1, len(close)):
        value = (value * (period - 1) + true_range[t - 1]) / period
        out[t] = value
    return out


def assert_well_formed(opportunity: Opportunity) -> None:
    """The invariants every opportunity of every strategy must satisfy."""
    numbers = (
        opportunity.entry,
        opportunity.confidence,
        opportunity.expected_return,
        opportunity.risk_reward,
        *(level for level in (opportunity.stop, opportunity.target) if level is not None),
    )
    assert all(math.isfinite(n) for n in numbers), opportunity
    assert 0.0 <= opportunity.confidence <= 1.0, opportunity
    assert opportunity.entry > 0, opportunity
    assert opportunity.side in ("long", "short"), opportunity
    direction = 1 if opportunity.side == "long" else -1
    if opportunity.stop is not None:
        assert (opportunity.entry - opportunity.stop) * direction > 0, opportunity
    if opportunity.target is not None:
        assert (opportunity.target - opportunity.entry) * direction > 0, opportunity
    if opportunity.stop is None or opportunity.target is None:
        assert opportunity.levels_note, opportunity
    if opportunity.stop is not None and opportunity.target is not None:
        assert opportunity.expected_return > 0 and opportunity.risk_reward > 0, opportunity
    else:
        assert opportunity.risk_reward == 0, opportunity
    assert opportunity.rationale and opportunity.horizon and opportunity.as_of, opportunity
    assert_actionable(opportunity)


def assert_actionable(opportunity: Opportunity) -> None:
    """What to do is stated: action, order type, horizon in bars, consistent legs."""
    assert opportunity.action in set(Action), opportunity
    assert opportunity.order_type in set(OrderType), opportunity
    if opportunity.action in (Action.OPEN_LONG, Action.OPEN_SHORT):
        assert opportunity.action == opening(opportunity.side), opportunity
    assert opportunity.horizon_bars > 0, opportunity
    assert opportunity.opportunity_id.startswith(
        f"{opportunity.strategy}:{opportunity.symbol}:{opportunity.side}"
    ), opportunity
    assert (opportunity.group_id is None) == (not opportunity.legs), opportunity
    for leg in opportunity.legs:
        assert leg.side in ("long", "short") and leg.order_type in set(OrderType), leg
        assert leg.price > 0 and leg.ratio > 0 and math.isfinite(leg.ratio), leg


def from_log_returns(returns: np.ndarray, start: float = 100.0) -> np.ndarray:
    """Hourly candles whose closes follow ``returns`` (tight ranges)."""
    closes = start * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    return candles(closes, half_range=closes * 1e-4)


def daily_closes(hourly: np.ndarray, days: int) -> np.ndarray:
    """The close of every 24th hour back from the last bar (as the strategies sample days)."""
    return hourly[::-1][::24][::-1, 4][-days:]


def skip_of(findings: Findings, symbol: str) -> Skip:
    """The one skip a rule gave ``symbol``."""
    [skip] = [skip for skip in findings.skipped if skip.symbol == symbol]
    return skip


def assert_accounted(findings: Findings, symbols: Sequence[str]) -> None:
    """Every symbol looked at either fired or was skipped, once."""
    fired = {o.symbol for o in findings.opportunities} | {
        leg.symbol for o in findings.opportunities for leg in o.legs
    }
    skipped = [skip.symbol for skip in findings.skipped]
    assert len(skipped) == len(set(skipped)), skipped
    assert set(skipped).isdisjoint(fired), (skipped, fired)
    assert findings.evaluated == len(symbols)
    assert set(symbols) <= fired | set(skipped)


def assert_quiet(outcome: object, *saying: str) -> Skip:
    """A rule looked and said no_signal, naming what it saw (each of ``saying``)."""
    assert isinstance(outcome, Skip), outcome
    assert outcome.code == SkipCode.NO_SIGNAL, outcome
    for words in saying:
        assert words in outcome.message, (words, outcome.message)
    return outcome


def opportunities_of(result: Findings | list[Opportunity]) -> list[Opportunity]:
    """A rule's opportunities, whether it returns its Findings or (as rules did before
    Findings) the bare list."""
    return result.opportunities if isinstance(result, Findings) else result
