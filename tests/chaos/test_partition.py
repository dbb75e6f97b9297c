"""Scenario 10: one worker cut off from Redis while the others are not.

A web worker reaches Redis through a TCP proxy the test stalls (bytes held,
delivered late when it heals) or cuts (connections reset). That worker fences
itself, another takes its scans over, and whatever it still tries to write
after the partition heals is rejected.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from coordinator.process.embedded_redis import EmbeddedRedis
from tests.chaos.harness import FAST_ENV, LEASE_TTL_S, owner_pid, takeover_s
from tests.chaos.proxy import RedisProxy
from tests.chaos.scenario import Fleet, as_probe
from tests.support import eventually

pytestmark = pytest.mark.processes

SCANS = 4
STRATEGIES = ["noop", "sleep_2s", "sleep_500ms"]
# The fault itself: partitioned for three leases, under the 5 s socket timeout
# so a stalled worker's requests are still pending when the partition heals.
PARTITION_S = 3 * LEASE_TTL_S
DROP_TIMEOUT_S = 15.0


@pytest.mark.parametrize("fault", ["stall", "cut"])
async def test_s10_worker_cut_off_from_redis_self_fences_and_its_late_writes_are_rejected(
    fault: str, start_service, redis_server: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    proxy = await RedisProxy(redis_server.port).start()
    # Starting blocks; the proxy lives on this event loop, so start in a thread.
    island = await asyncio.to_thread(start_service, workers=1, REDIS_URL=proxy.url, **FAST_ENV)
    mainland = await asyncio.to_thread(start_service, workers=2, **FAST_ENV)
    [island_pid] = island.worker_pids()
    creator = Fleet(island, f"s10-{fault}")  # scans created on the island are owned there
    fleet = Fleet(mainland, f"s10-{fault}")  # and followed from the mainland
    try:
        for _ in range(SCANS):
            [scan_id] = await creator.start(1, STRATEGIES)
            fleet.users[scan_id] = creator.users[scan_id]
            fleet.followers.append(
                asyncio.ensure_future(
                    fleet.client.follow(
                        f"{fleet.users[scan_id]}-poller", fleet.users[scan_id], scan_id, 30
                    )
                )
            )
        await fleet.all_running_with_a_report()
        before = {
            scan_id: await fleet.client.read("probe", user, scan_id)
            for scan_id, user in fleet.users.items()
        }
        stranded = [s for s, body in before.items() if body and owner_pid(body) == island_pid]
        assert stranded, "no scan is owned by the cut-off worker"
        fault_mono = time.monotonic()
        proxy.stall() if fault == "stall" else proxy.cut()
        await asyncio.sleep(PARTITION_S)
        proxy.heal()
        finals = await fleet.finish()

        def dropped():  # type: ignore[no-untyped-def]
            lines = island.log_lines("scan_actor_fenced")
            return {line["scan_id"] for line in lines} >= set(stranded)

        await eventually(as_probe(dropped), timeout_s=DROP_TIMEOUT_S, what="the island to fence")
        fleet.history.add_log_lines(
            line for line in island.log_lines() if line.get("scan_id") in fleet.users
        )
    finally:
        await creator.close()
        await fleet.close()
        # The island first (in a thread: it shuts down through the proxy, which lives on
        # this loop), so no connection of its is still being accepted when the proxy closes.
        await asyncio.to_thread(island.stop)
        await proxy.close()
    assert [final["status"] for final in finals] == ["completed"] * SCANS
    took = []
    late = []
    for scan_id in stranded:
        epoch = before[scan_id]["epoch"]
        took.append(takeover_s(fleet.history, scan_id, epoch, fault_mono))
        late += [
            w.outcome
            for w in fleet.history.writes_of(scan_id)
            if w.epoch == epoch and w.sent_mono > fault_mono
        ]
    assert "accepted" not in late
    print(
        f"\nS10 partition ({fault}, {PARTITION_S:.0f} s): {len(stranded)} scans taken over in "
        f"{min(took):.2f}-{max(took):.2f} s; the island's late attempts {sorted(late)}"
    )
