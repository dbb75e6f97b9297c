"""Shared test helpers: a static market-data provider, settings, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec

from config.settings import Settings
from coordinator.store.records import Report, StrategyStatus
from strategies.diagnostic import DIAGNOSTIC
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity
from strategies.registry import Registry

T = TypeVar("T")
TEST_SECRET = "test-secret-for-unit-tests-only-32b"
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
AS_OF_MS = 1_700_000_000_000


class StaticProvider:
    """A market-data source with no data, for runtime tests that run diagnostic strategies."""

    source_name = "static-test"

    def symbols(self) -> tuple[str, ...]:
        return SYMBOLS

    def data_version(self) -> str:
        return "static"

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        return MarketSnapshot(source=self.source_name, as_of_ms=AS_OF_MS, symbols=tuple(symbols))


def diagnostic_registry() -> Registry:
    return Registry(DIAGNOSTIC, defaults=["noop"])


def make_settings(**overrides: object) -> Settings:
    base = Settings(
        jwt_secret=TEST_SECRET,
        worker_id="testhost:1",
        lease_ttl_ms=1000,
        sweep_interval_ms=50,
        mailbox_poll_interval_ms=200,
        work_block_ms=200,
        work_reclaim_idle_ms=600,
        scan_deadline_s=30.0,
        result_retention_s=60,
        diagnostic_strategies=True,
    )
    return msgspec.structs.replace(base, **overrides)


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 10.0,
    interval_s: float = 0.02,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns a truthy value, or fail at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(interval_s)


def sample_opportunity(
    symbol: str = "BTC/USDT", strategy: str = "a", rationale: str = "r"
) -> Opportunity:
    """A valid opportunity for tests of how results are carried, not computed."""
    return Opportunity(
        strategy=strategy,
        symbol=symbol,
        side="long",
        entry=10.0,
        stop=9.0,
        target=12.0,
        confidence=0.5,
        expected_return=0.2,
        risk_reward=2.0,
        horizon="1d",
        rationale=rationale,
        data_source="x",
        as_of="t",
    )


def completed_report(
    strategy: str,
    *,
    worker: str,
    at_ms: int,
    duration_ms: float = 1.0,
    opportunities: Sequence[Opportunity] = (),
) -> Report:
    """A first attempt's report that the strategy completed."""
    return Report(
        report_id=f"{strategy}:1",
        strategy=strategy,
        attempt=1,
        status=StrategyStatus.COMPLETED,
        worker=worker,
        at_ms=at_ms,
        duration_ms=duration_ms,
        opportunities=list(opportunities),
    )


async def owned_scan(owner: Any, scans: Any, strategies: list[str], user: str = "alice") -> str:
    """Start a scan and wait until ``owner`` (a started Coordinator) owns it."""
    created = await scans.create(user, strategies, None, None)
    scan_id: str = created.snapshot.scan_id

    async def owned() -> bool:
        return scan_id in owner.owned.actors or bool(await owner.owned.adopt(scan_id))

    await eventually(owned, what=f"an owner of scan {scan_id}")
    return scan_id
