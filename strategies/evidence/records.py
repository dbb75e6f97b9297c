"""What an evaluation stores: its trades, its calibration table, its evidence.

Stored once per (source, data version, strategy, rule fingerprint) in Redis as
MessagePack (see coordinator.store.codec) and held read-only in each process;
bounded (per-symbol evidence, a calibration table of a few cells, the most
recent trades up to a cap).
"""

from __future__ import annotations

import msgspec

from strategies.opportunity import Evidence


class Trade(msgspec.Struct, frozen=True, array_like=True):
    """One simulated trade; prices as filled, percentages of the entry price."""

    symbol: str
    side: str
    signal_ms: int  # the bar the rule saw last
    entry_ms: int
    exit_ms: int
    entry_price: float
    exit_price: float
    exit: str  # target | stop | horizon
    risk_reward: float  # the idea's own reward / risk
    risk_pct: float  # the idea's own entry-to-stop distance, percent
    gross_pct: float
    net_pct: float  # gross less the taker fee both ways and slippage both ways
    fees_pct: float

    @property
    def hit(self) -> bool:
        return self.exit == "target"

    @property
    def gross_r(self) -> float:
        return self.gross_pct / self.risk_pct

    @property
    def net_r(self) -> float:
        return self.net_pct / self.risk_pct


class Cell(msgspec.Struct, frozen=True, array_like=True):
    """The trades of one side in one risk/reward band."""

    side: str
    band: int
    trades: int
    hits: int
    miss_r_sum: float  # gross R of the trades that missed their target, summed


class Calibration(msgspec.Struct, frozen=True, kw_only=True):
    """The counts a probability is computed from (see evidence.calibration)."""

    band_edges: list[float]
    prior_strength: float
    trades: int
    hits: int
    miss_r_sum: float
    cells: list[Cell]


class EvaluationStatus:
    READY = "ready"
    UNAVAILABLE = "unavailable"


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One strategy walked forward over one data version."""

    strategy: str
    source: str
    data_version: str
    fingerprint: str  # the rule's code and parameters plus the evaluation settings
    status: str  # EvaluationStatus
    note: str | None = None
    window_start_ms: int = 0
    window_end_ms: int = 0
    stride_bars: int = 1
    slippage_bps: float = 0.0
    bars_evaluated: int = 0
    signals: int = 0
    repeats: int = 0  # signals while the same symbol and side already had a trade open
    unfilled: int = 0  # limit or stop orders the market never reached
    still_open: int = 0  # trades the data ends before
    not_simulated: int = 0  # ideas without price levels (hedged, multi-leg, rebalances)
    rule_errors: int = 0  # bars where the rule raised (e.g. on too short a history)
    overall: Evidence | None = None
    per_symbol: dict[str, Evidence] = msgspec.field(default_factory=dict)
    calibration: Calibration | None = None
    worst_losing_run: int = 0
    trades_total: int = 0
    trades: list[Trade] = msgspec.field(default_factory=list)  # the most recent, capped
    cpu_s: float = 0.0
