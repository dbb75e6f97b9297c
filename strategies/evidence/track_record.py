"""A strategy's track record as a trader reads it: its walk-forward trades as a
cumulative-R curve, and how well its stated probabilities held, decile by decile.

The curve adds each trade's net R (its net return in units of its own risk) in
the order the trades closed: a rising curve made money after costs, a falling
one lost it. It covers the trades the evaluation keeps (the most recent, up to
its cap): ``trades_shown`` of ``trades_total``.

The calibration table is out of sample: each trade is given the probability the
evidence would have stated at its signal, from the trades that had closed
before it (``evidence.calibration.prequential``), never from itself or later
ones. Trades are sorted by that probability and cut into ten bins of (nearly)
equal size; each bin's realised hit rate carries its 95 % Wilson interval. A
well-calibrated strategy's bins sit on the diagonal (realised = predicted)
within their intervals. Trades told nothing (too few closed before them) are
left out and counted in ``uncalibrated``.
"""

from __future__ import annotations

from itertools import accumulate

import msgspec

from strategies.evidence.calibration import prequential
from strategies.evidence.records import Evaluation, Trade
from strategies.evidence.stats import wilson_interval
from strategies.indicators import MS_PER_S, iso_of
from strategies.opportunity import Evidence

BINS = 10
RATE_DECIMALS = R_DECIMALS = 4


class CurvePoint(msgspec.Struct, frozen=True):
    time: int  # the trade's exit, Unix seconds (UTC)
    r: float  # the cumulative net R up to and including this trade
    trade_r: float  # this trade's net R


class CalibrationBin(msgspec.Struct, frozen=True, kw_only=True):
    """One tenth of the calibrated trades, by the probability stated at their signal."""

    bin: int  # 1 (the lowest stated probabilities) to 10
    trades: int
    predicted_low: float
    predicted_high: float
    predicted_mean: float
    hits: int
    realised: float
    realised_low: float  # 95 % Wilson interval of the realised hit rate
    realised_high: float


class TrackRecord(msgspec.Struct, frozen=True, kw_only=True):
    strategy: str
    status: str  # ready | computing | unavailable
    note: str | None = None
    source: str | None = None
    data_version: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    trades_total: int = 0
    trades_shown: int = 0
    worst_losing_run: int = 0
    overall: Evidence | None = None
    curve: list[CurvePoint] = msgspec.field(default_factory=list)
    calibration: list[CalibrationBin] = msgspec.field(default_factory=list)
    uncalibrated: int = 0  # trades with no probability stated at their signal


def curve_of(trades: list[Trade]) -> list[CurvePoint]:
    closed = sorted(trades, key=lambda trade: trade.exit_ms)
    totals = accumulate(trade.net_r for trade in closed)
    return [
        CurvePoint(
            time=trade.exit_ms // MS_PER_S,
            r=round(total, R_DECIMALS),
            trade_r=round(trade.net_r, R_DECIMALS),
        )
        for trade, total in zip(closed, totals, strict=True)
    ]


def calibration_of(trades: list[Trade]) -> tuple[list[CalibrationBin], int]:
    """The deciles of the out-of-sample stated probabilities, and how many trades had none."""
    stated = [
        (estimate.probability, trade.hit)
        for trade, estimate in zip(trades, prequential(trades), strict=True)
        if estimate is not None
    ]
    stated.sort(key=lambda pair: pair[0])
    bins = []
    for index in range(BINS):
        chunk = stated[index * len(stated) // BINS : (index + 1) * len(stated) // BINS]
        if not chunk:
            continue
        hits = sum(1 for _p, hit in chunk if hit)
        low, high = wilson_interval(hits, len(chunk))
        predicted = [p for p, _hit in chunk]
        bins.append(
            CalibrationBin(
                bin=index + 1,
                trades=len(chunk),
                predicted_low=round(predicted[0], RATE_DECIMALS),
                predicted_high=round(predicted[-1], RATE_DECIMALS),
                predicted_mean=round(sum(predicted) / len(predicted), RATE_DECIMALS),
                hits=hits,
                realised=round(hits / len(chunk), RATE_DECIMALS),
                realised_low=round(low, RATE_DECIMALS),
                realised_high=round(high, RATE_DECIMALS),
            )
        )
    return bins, len(trades) - len(stated)


def track_record(evaluation: Evaluation) -> TrackRecord:
    trades = list(evaluation.trades)
    calibration, uncalibrated = calibration_of(trades)
    return TrackRecord(
        strategy=evaluation.strategy,
        status=evaluation.status,
        note=evaluation.note,
        source=evaluation.source,
        data_version=evaluation.data_version,
        window_start=iso_of(evaluation.window_start_ms) if evaluation.window_end_ms else None,
        window_end=iso_of(evaluation.window_end_ms) if evaluation.window_end_ms else None,
        trades_total=evaluation.trades_total,
        trades_shown=len(trades),
        worst_losing_run=evaluation.worst_losing_run,
        overall=evaluation.overall,
        curve=curve_of(trades),
        calibration=calibration,
        uncalibrated=uncalibrated,
    )
