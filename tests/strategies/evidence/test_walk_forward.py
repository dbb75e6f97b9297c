"""The walk-forward driver: no look-ahead, realistic costs, one position at a time."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from strategies.catalog import CATALOG
from strategies.evidence import walk_forward
from strategies.evidence.truncate import Truncator
from strategies.evidence.walk_forward import Config, Replay, evaluate, evaluation_points
from strategies.findings import Findings
from strategies.opportunity import make_opportunity
from strategies.sources.bundled import BundledProvider
from tests.strategies.evidence import edge_data

HOUR_MS = 3_600_000
# Points per strategy in the look-ahead check: every 97th hour of the past half year.
CHECK_STRIDE = 97
CHECK_BARS = 180 * 24


@pytest.fixture(scope="module")
def bundled():
    provider = BundledProvider()
    return provider.snapshot_now(provider.symbols())


def changed_after(snapshot, cut_ms: int):
    """The snapshot with every row after ``cut_ms`` altered (prices doubled, volume
    tenfold, funding flipped): a change only the future could see."""

    def altered(table):
        table = np.array(table, dtype=np.float64)
        later = table[:, 0] > cut_ms
        table[later, 1:] *= np.where(table.shape[1] > 2, 2.0, -1.0)
        if table.shape[1] == 6:
            table[later, 5] *= 5.0
        return table

    fields = {
        name: {s: altered(t) for s, t in getattr(snapshot, name).items()}
        for name in ("candles_1h", "candles_5m", "funding", "perp_1h")
    }
    return dataclasses.replace(snapshot, **fields)


def signals_until(spec, snapshot, points):
    replay = Replay(snapshot, Config(stride_bars=1, slippage_bps=0.0, trades_kept=0))
    return [(at, opportunity) for at, opportunity in replay.signals(spec.run, points)]


@pytest.mark.parametrize("spec", CATALOG, ids=[spec.name for spec in CATALOG])
def test_a_future_only_change_leaves_past_signals_alone(spec, bundled):
    clock = walk_forward.clock_of(bundled)
    points = clock[-CHECK_BARS::CHECK_STRIDE]
    cut = int(points[len(points) // 2])
    past = points[points <= cut]
    original = signals_until(spec, bundled, past)
    altered = signals_until(spec, changed_after(bundled, cut), past)
    assert altered == original
    # ... while the change is one the rule does see once it is in the past.
    later = points[points > cut]
    assert signals_until(spec, changed_after(bundled, cut), later) != signals_until(
        spec, bundled, later
    ) or not signals_until(spec, bundled, later)


def test_truncation_keeps_every_row_up_to_the_time_and_none_after(bundled):
    truncator = Truncator(bundled)
    cut = int(walk_forward.clock_of(bundled)[4000]) + 1  # between two hourly bars
    snapshot = truncator.until(cut)
    assert snapshot.as_of_ms == cut
    for name in ("candles_1h", "candles_5m", "funding", "perp_1h"):
        for symbol, table in getattr(bundled, name).items():
            kept = getattr(snapshot, name).get(symbol)
            expected = np.asarray(table)[np.asarray(table)[:, 0] <= cut]
            if len(expected) == 0:
                assert kept is None
            else:
                assert np.array_equal(kept, expected)


def test_points_end_at_the_last_bar_every_stride():
    clock = np.arange(10, dtype=np.float64) * HOUR_MS
    points = evaluation_points(clock, Config(stride_bars=4, slippage_bps=0, trades_kept=0))
    assert list(points // HOUR_MS) == [1, 5, 9]
    windowed = evaluation_points(clock, Config(4, 0, 0, window_bars=5))
    assert list(windowed // HOUR_MS) == [5, 9]


def flat_snapshot(bars: int, *, taker: float):
    """A symbol whose price never moves: every trade ends at its horizon, gross 0."""
    table = np.column_stack(
        [
            np.arange(bars, dtype=np.float64) * HOUR_MS,
            *(np.full(bars, 100.0) for _ in range(4)),
            np.full(bars, 1000.0),
        ]
    )
    return edge_data.MarketSnapshot(
        source="flat",
        as_of_ms=int(table[-1, 0]),
        symbols=("F/USDT",),
        candles_1h={"F/USDT": table},
        markets={"F/USDT": {"taker": taker}},
    )


def always_long(snapshot):
    table = snapshot.candles_1h["F/USDT"]
    if len(table) < 2:
        return Findings(opportunities=[], evaluated=1)
    found = [
        make_opportunity(
            strategy="always",
            symbol="F/USDT",
            side="long",
            entry=float(table[-1, 4]),
            stop=95.0,
            target=110.0,
            confidence=0.5,
            horizon="10 hours",
            horizon_bars=10,
            rationale="always",
            data_source="flat",
            as_of="",
        )
    ]
    return Findings(opportunities=found, evaluated=1)


def test_costs_are_the_taker_fee_and_slippage_both_ways():
    snapshot = flat_snapshot(200, taker=0.0005)
    evaluation = evaluate(
        "always", always_long, snapshot, Config(1, 3.0, 1000), data_version="v", fingerprint="f"
    )
    fees = 2 * (0.0005 + 0.0003) * 100
    assert evaluation.trades_total > 0
    for trade in evaluation.trades:
        assert trade.gross_pct == 0.0 and trade.exit == "horizon"
        assert trade.net_pct == pytest.approx(-fees)
    assert evaluation.overall.fees_pct_round_trip == pytest.approx(fees)
    assert evaluation.overall.expectancy_pct_net == pytest.approx(-fees)
    assert evaluation.overall.hit_rate == 0.0
    assert evaluation.worst_losing_run == evaluation.trades_total


def test_a_signal_repeated_while_its_trade_is_open_is_not_traded_again():
    snapshot = flat_snapshot(200, taker=0.001)
    evaluation = evaluate(
        "always", always_long, snapshot, Config(1, 0.0, 1000), data_version="v", fingerprint="f"
    )
    # Each trade is entered at the open after its signal bar and held 10 bars: the
    # signals of the bars in between are repeats.
    trades = evaluation.trades
    assert all(b.signal_ms >= a.exit_ms for a, b in itertools.pairwise(trades))
    assert all(t.entry_ms == t.signal_ms + HOUR_MS for t in trades)
    assert all(t.exit_ms - t.entry_ms == 9 * HOUR_MS for t in trades)
    assert evaluation.repeats > 0
    traded = evaluation.trades_total + evaluation.still_open
    assert evaluation.signals == evaluation.repeats + traded
