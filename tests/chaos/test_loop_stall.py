"""Scenario 3: the owner's event loop is blocked (a synchronous stall longer
than the lease) between folding a report and publishing it.

The owner runs in this test process so the test can stall its loop at exactly
that point; a real worker process runs the strategies and takes the scan over.
When the loop runs again the owner must see that its own lease deadline passed
and stop before writing: its late attempt never reaches Redis (``self_fenced``,
not ``fenced``), and its actor is dropped.
"""

from __future__ import annotations

import time

import msgspec
import pytest
from structlog.testing import capture_logs

from coordinator.actor.mailbox import Entry
from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.service.coordinator import Coordinator
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.codec import timeline_events
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Report
from coordinator.store.redis_client import connect
from strategies.sources.bundled import BundledProvider
from tests.chaos.checker import check
from tests.chaos.harness import FAST_ENV, LEASE_TTL_S
from tests.chaos.history import TERMINAL, History, json_lines, owner_write_of
from tests.support import StaticProvider, diagnostic_registry, eventually, make_settings

pytestmark = pytest.mark.processes

OWNER = "stalled-owner:1"
STRATEGIES = ["noop", "sleep_500ms", "sleep_2s"]
# The fault: the loop blocked for two and a half leases.
STALL_S = 2.5 * LEASE_TTL_S
ADOPT_ATTEMPTS = 5
END_TIMEOUT_S = 30.0


async def test_s03_owner_whose_loop_stalls_past_its_lease_stops_before_writing(
    redis_server: EmbeddedRedis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        redis_url=redis_server.url,
        worker_id=OWNER,
        lease_ttl_ms=int(FAST_ENV["LEASE_TTL_MS"]),
        scan_deadline_s=END_TIMEOUT_S,
    )
    redis = connect(redis_server.url)
    worker = start_worker(**FAST_ENV)
    owner = Coordinator(
        redis, settings, diagnostic_registry(), StaticProvider(), run_strategies=False
    )
    history = History()
    stalled: list[float] = []
    original_read = owner.mailbox.read_after

    async def read_then_stall(scan_id: str, cursor: str) -> list[Entry]:
        entries = await original_read(scan_id, cursor)
        if not stalled and any(isinstance(e.message, Report) for e in entries):
            stalled.append(time.monotonic())
            time.sleep(STALL_S)  # noqa: ASYNC251 - the fault itself: the whole loop is blocked
        return entries

    owner.mailbox.read_after = read_then_stall  # type: ignore[method-assign]
    try:
        with capture_logs() as logs:
            await owner.start()
            scan_id = await create_owned_by(owner, redis, settings)

            async def ended():  # type: ignore[no-untyped-def]
                raw = await redis.hget(keys.scan(scan_id), "snap")
                body = msgspec.json.decode(raw) if raw else None
                history.observe("redis-reader", scan_id, 200 if body else 404, body)
                return body if body and body["status"] in TERMINAL else None

            final = await eventually(ended, timeout_s=END_TIMEOUT_S, what="the scan to end")
            timeline = await redis.xrange(keys.lifecycle(scan_id))
            events = [msgspec.to_builtins(e) for _id, f in timeline for e in timeline_events(f)]
            history.add_outcome(final, events)
        assert stalled, "the owner never folded a report, so never stalled"
        assert scan_id not in owner.owned.actors, "the stalled owner kept its actor"
    finally:
        await owner.stop()
        await redis.aclose()
        worker.stop()
    owner_writes = [
        owner_write_of({**line, "worker_id": OWNER})
        for line in logs
        if line["event"] == "snapshot_publish" and line["scan_id"] == scan_id
    ]
    late = [w for w in owner_writes if w.sent_mono > stalled[0]]
    assert [w.outcome for w in late] == ["self_fenced"], late
    history.writes += owner_writes
    history.add_log_lines(
        line for line in json_lines(worker.log_path) if line.get("scan_id") == scan_id
    )
    history.follows("redis-reader", scan_id)
    assert final["epoch"] >= 2 and final["status"] == "completed"
    check(history).assert_clean()
    print(
        f"\nS3 loop blocked {STALL_S:.1f} s after folding a report: the owner's late attempt "
        f"{[w.outcome for w in late]}, scan completed at epoch {final['epoch']}"
    )


async def create_owned_by(owner: Coordinator, redis, settings) -> str:  # type: ignore[no-untyped-def]
    """A new scan this in-process owner adopted before the worker's sweeper did."""
    guard = GenerationGuard(redis)
    await guard.establish()
    # The worker process reads the bundled market data: scan its symbols.
    symbols = BundledProvider(latency_ms=0).symbols()
    scans = Scans(redis, settings, diagnostic_registry(), symbols, guard)
    for attempt in range(ADOPT_ATTEMPTS):
        created = await scans.create(f"s03-{attempt}", STRATEGIES, None, None)
        if await owner.owned.adopt(created.snapshot.scan_id):
            return created.snapshot.scan_id
    raise AssertionError(f"the worker process adopted all {ADOPT_ATTEMPTS} scans first")
