"""A list of trades summarised as Evidence (the fields an opportunity carries)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean

from strategies.evidence.records import Trade
from strategies.evidence.stats import wilson_interval
from strategies.indicators import iso_of
from strategies.opportunity import Evidence

# Rates to 4 decimals, percentages to 4 (0.0001 %), R to 4.
RATE_DECIMALS = PCT_DECIMALS = R_DECIMALS = 4


def rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def evidence_of(
    trades: Sequence[Trade], window_start_ms: int, window_end_ms: int, fees_pct: float
) -> Evidence:
    """Evidence of ``trades``; ``fees_pct`` is the round trip stated when there are none."""
    window = {
        "window_start": iso_of(window_start_ms) if window_end_ms else None,
        "window_end": iso_of(window_end_ms) if window_end_ms else None,
    }
    if not trades:
        return Evidence(
            trades=0,
            hit_rate=None,
            hit_rate_low=None,
            hit_rate_high=None,
            expectancy_r=None,
            expectancy_pct_net=None,
            avg_win_pct=None,
            avg_loss_pct=None,
            fees_pct_round_trip=round(fees_pct, PCT_DECIMALS),
            **window,
        )
    hits = sum(1 for trade in trades if trade.hit)
    low, high = wilson_interval(hits, len(trades))
    wins = [trade.net_pct for trade in trades if trade.net_pct > 0]
    losses = [-trade.net_pct for trade in trades if trade.net_pct < 0]
    return Evidence(
        trades=len(trades),
        hit_rate=round(hits / len(trades), RATE_DECIMALS),
        hit_rate_low=round(low, RATE_DECIMALS),
        hit_rate_high=round(high, RATE_DECIMALS),
        expectancy_r=round(fmean(trade.net_r for trade in trades), R_DECIMALS),
        expectancy_pct_net=round(fmean(trade.net_pct for trade in trades), PCT_DECIMALS),
        avg_win_pct=rounded(fmean(wins) if wins else None, PCT_DECIMALS),
        avg_loss_pct=rounded(fmean(losses) if losses else None, PCT_DECIMALS),
        fees_pct_round_trip=round(fmean(trade.fees_pct for trade in trades), PCT_DECIMALS),
        **window,
    )
