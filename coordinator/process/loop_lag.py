"""Event-loop lag: how late the loop runs a callback that was due.

A worker's loop renews leases, folds mailboxes and serves requests; when it is
late, everything is. A probe sleeps for a fixed interval and records by how much
it overslept, as a histogram operators can alert on (and the scale benchmark
reads).
"""

from __future__ import annotations

import asyncio

from coordinator.process.metrics import LOOP_LAG

# How often the probe measures; short enough to catch brief stalls, long enough
# to cost nothing.
LOOP_LAG_PROBE_INTERVAL_S = 0.1


async def watch_loop_lag(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + LOOP_LAG_PROBE_INTERVAL_S
        await asyncio.sleep(LOOP_LAG_PROBE_INTERVAL_S)
        LOOP_LAG.observe(max(0.0, loop.time() - due))
