"""Workload 4, takeover: a scan whose strategies take STEPS x STEP_S in total, on 2
workers; kill -9 of its owner KILL_AFTER_S after submit; time from the kill to the
scan running again and to its terminal state.

Opportunity Scanner: the owner is the snapshot's `owner` (host:pid); running again is
the first snapshot published at a higher epoch. Peers have no owner of a scan: the
worker running step 0 is killed, and running again is a killed step starting again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from redis.asyncio import Redis

from bench.adapters.costs import pid_key, redis_url, started_key

STEPS = 5
STEP_S = 2.0
KILL_AFTER_S = 1.0
GIVE_UP_S = 45.0
POLL_S = 0.01


async def drive_oppscan(client: Any, params: dict[str, Any]) -> dict[str, object]:
    user = f"takeover-{params.get('round', 0)}"
    scan_id = await client.submit(user, [f"noop_{n:02d}" for n in range(1, STEPS + 1)])
    await asyncio.sleep(KILL_AFTER_S)
    _code, body = await client.snapshot(user, scan_id)
    assert body is not None
    epoch, owner = int(body["epoch"]), str(body["owner"])
    victim = int(owner.rsplit(":", 1)[1])
    if victim <= 0:  # never os.kill(0): that would signal our own process group
        return {"error": f"no owner {KILL_AFTER_S} s after submit"}
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    running_again = terminal = None
    while time.monotonic() - killed < GIVE_UP_S:
        _code, body = await client.snapshot(user, scan_id)
        if body is not None:
            if running_again is None and int(body["epoch"]) > epoch:
                running_again = time.monotonic() - killed
            if body["status"] in ("completed", "partial", "failed", "cancelled"):
                terminal = time.monotonic() - killed
                break
        await asyncio.sleep(POLL_S)
    return {
        "running_again_s": round_or_none(running_again),
        "terminal_s": round_or_none(terminal),
        "killed": owner,
        "final_status": body["status"] if body else None,
    }


async def drive_peer(client: Any, params: dict[str, Any]) -> dict[str, object]:
    redis = Redis.from_url(redis_url())
    scan, handles = await client.start_steps(STEPS, STEP_S)
    await asyncio.sleep(KILL_AFTER_S)
    victim = int(await redis.get(pid_key(scan, 0)) or 0)
    if victim <= 0:  # never os.kill(0): that would signal our own process group
        await redis.aclose()
        return {"error": f"step 0 not started {KILL_AFTER_S} s after submit"}
    pids = [await redis.get(pid_key(scan, i)) for i in range(STEPS)]
    on_victim = [i for i, pid in enumerate(pids) if pid is not None and int(pid) == victim]
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    running_again = terminal = None
    while time.monotonic() - killed < GIVE_UP_S:
        if running_again is None:
            counts = [int(await redis.get(started_key(scan, i)) or 0) for i in on_victim]
            if any(count >= 2 for count in counts):
                running_again = time.monotonic() - killed
        if await client.finished(handles):
            terminal = time.monotonic() - killed
            break
        await asyncio.sleep(POLL_S)
    await redis.aclose()
    return {
        "running_again_s": round_or_none(running_again),
        "terminal_s": round_or_none(terminal),
        "killed_steps": len(on_victim),
    }


def round_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
