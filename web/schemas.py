"""Response bodies of the API as msgspec Structs: the handlers encode these, and
the OpenAPI document is generated from the very same types."""

from __future__ import annotations

import msgspec

from coordinator.store.records import LifecycleEvent, Progress, ScanSnapshot, ScanStatus, WorkerView
from strategies.chart import Candle, Indicator
from strategies.opportunity import Opportunity


class ResultsEnvelope(msgspec.Struct):
    scan_id: str
    status: ScanStatus
    partial: bool
    version: int
    market_data_as_of: str | None
    data_source: str | None
    opportunities: list[Opportunity]


class CandlesEnvelope(msgspec.Struct, kw_only=True):
    """The candles a scan's rules saw for one symbol (rows at or before the scan's
    market-data as-of, the last `bars` of them) and a strategy's indicators."""

    scan_id: str
    symbol: str
    timeframe: str
    strategy: str | None
    versus: str | None
    market_data_as_of: str
    data_source: str
    candles: list[Candle]
    indicators: list[Indicator]
    note: str | None = None  # why there are no candles, when there are none


class ScanList(msgspec.Struct):
    scans: list[ScanSnapshot]


class Lifecycle(msgspec.Struct):
    scan_id: str
    events: list[LifecycleEvent]


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct, omit_defaults=True):
    ready: bool
    # A reason code when not ready: `redis_unreachable` or `redis_data_lost`.
    reason: str | None = None


class DevToken(msgspec.Struct):
    token: str
    user: str
    expires_in_s: int


class WorkerList(msgspec.Struct):
    workers: list[WorkerView]
    count: int


class OldStatus(msgspec.Struct):
    """The replaced system's status shape (compatibility routes)."""

    success: bool
    scan_id: str
    status: str  # scanning | complete | not_found
    final_status: str | None = None
    progress: Progress | None = None
    message: str | None = None


class OldOpportunity(msgspec.Struct):
    """An opportunity in the replaced system's shape: its fields only (decoding a
    stored opportunity into it drops the rest). A level an idea does not have is
    null (the new routes' levels_note says why)."""

    strategy: str
    symbol: str
    side: str
    entry: float
    stop: float | None
    target: float | None
    confidence: float | None
    expected_return: float
    risk_reward: float
    horizon: str
    rationale: str
    data_source: str
    as_of: str


class OldResults(msgspec.Struct):
    success: bool
    scan_id: str
    status: str
    final_status: str | None
    partial: bool
    progress: Progress
    market_data_as_of: str | None
    opportunities: list[OldOpportunity]
