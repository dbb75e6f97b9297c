"""The loop-lag probe records a stall of the event loop."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import REGISTRY

from coordinator.process.loop_lag import LOOP_LAG_PROBE_INTERVAL_S, watch_loop_lag
from tests.support import eventually

SERIES = "oppscan_event_loop_lag_seconds"
# The injected fault: the loop blocked by synchronous work for this long.
STALL_S = 3 * LOOP_LAG_PROBE_INTERVAL_S
# A stall shows as lag of at least the stall minus the probe's own sleep.
AT_LEAST_S = "0.1"


def count(bucket: str | None = None) -> float:
    if bucket is None:
        return REGISTRY.get_sample_value(f"{SERIES}_count") or 0.0
    return REGISTRY.get_sample_value(f"{SERIES}_bucket", {"le": bucket}) or 0.0


async def test_a_blocked_loop_shows_as_lag() -> None:
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch_loop_lag(stop))
    try:
        before = count()

        async def probed() -> bool:
            return count() > before

        await eventually(probed, what="a first lag observation")
        below_before, total_before = count(AT_LEAST_S), count()
        time.sleep(STALL_S)  # noqa: ASYNC251 - the fault itself: the whole loop is blocked

        async def stall_recorded() -> bool:
            return count() > total_before

        await eventually(stall_recorded, what="the stall's observation")
        # The observation after the stall is above 0.1 s: not in the le=0.1 bucket.
        assert count() - total_before > count(AT_LEAST_S) - below_before
    finally:
        stop.set()
        watcher.cancel()
