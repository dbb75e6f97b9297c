"""SAQ as a scan service: a scan is `Queue.map` of one job per strategy.

Tuned as its docs allow: `map` polls every POLL_S instead of 0.5 s; worker
concurrency CONCURRENCY; for takeover, jobs carry a heartbeat and the worker
sweeps every SWEEP_S, so a dead worker's job is retried after about the heartbeat.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

import uvloop
from aiohttp import web
from saq import Queue
from saq.job import Status

from bench.adapters.costs import HOLD_S, burn_cpu, cost_of, pid_key, redis_url, started_key

# The peers' workers and clients run on the service's event loop (uvloop), tuned alike.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

POLL_S = 0.01
# How long a driver waits for a starting worker's first sweep.
STARTUP_SWEEP_TIMEOUT_S = 30.0
CONCURRENCY = 16
# Takeover tuning: the smallest heartbeat that a 2 s step (touching every second) keeps.
STEP_HEARTBEAT_S = 2
STEP_TOUCH_S = 1.0
SWEEP_S = 1
# SAQ's default sweep (60 s) elsewhere: a 1 s sweep races `map` on short jobs (swept).
TAKEOVER = os.environ.get("BENCH_SAQ_TAKEOVER") == "1"
KNOWN = frozenset(status.value for status in Status)


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def cpu_1ms(ctx: dict[str, Any]) -> None:
    burn_cpu()


async def step(ctx: dict[str, Any], *, scan: str, index: int, seconds: float) -> int:
    job = ctx["job"]
    redis = job.queue.redis
    await redis.incr(started_key(scan, index))
    await redis.set(pid_key(scan, index), os.getpid())
    remaining = seconds
    while remaining > 0:
        await asyncio.sleep(min(STEP_TOUCH_S, remaining))
        remaining -= STEP_TOUCH_S
        await job.update()  # the heartbeat
    return index


async def hold(ctx: dict[str, Any]) -> None:
    await asyncio.sleep(HOLD_S)


def make_queue() -> Queue:
    return Queue.from_url(redis_url())


settings = {
    "queue": make_queue(),
    "functions": [noop, cpu_1ms, step, hold],
    "concurrency": CONCURRENCY,
    "timers": {"sweep": SWEEP_S} if TAKEOVER else {},
}


class PeerClient:
    name = "saq"

    def __init__(self) -> None:
        self.queue = make_queue()
        self._swept = False

    async def wait_for_startup_sweep(self) -> None:
        """A SAQ worker sweeps the active list as it starts and aborts any job not yet
        marked active ("swept"): a job taken in that instant is lost. Its sweep lock
        key says the sweep is done; wait for it before the first job."""
        deadline = time.monotonic() + STARTUP_SWEEP_TIMEOUT_S
        while not await self.queue.redis.exists(self.queue.namespace("sweep")):
            if time.monotonic() > deadline:
                raise TimeoutError("no SAQ worker swept its queue at start")
            await asyncio.sleep(POLL_S)
        self._swept = True

    async def open(self) -> None:
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def run_scan(self, user: str, strategies: list[str]) -> None:
        if not self._swept:
            await self.wait_for_startup_sweep()
        await self.queue.map(cost_of(strategies[0]), [{} for _ in strategies], poll_interval=POLL_S)

    async def submit(self, user: str, strategies: list[str]) -> str:
        job = await self.queue.enqueue(cost_of(strategies[0]))
        assert job is not None
        return job.key

    async def status(self, user: str, key: str) -> str | None:
        job = await self.queue.job(key)
        if job is None or job.status.value not in KNOWN:
            return None
        return job.status.value

    async def start_steps(self, count: int, seconds: float) -> tuple[str, list[str]]:
        scan = uuid.uuid4().hex
        keys = []
        for i in range(count):
            job = await self.queue.enqueue(
                "step",
                scan=scan,
                index=i,
                seconds=seconds,
                heartbeat=STEP_HEARTBEAT_S,
                retries=3,
                timeout=0,
            )
            assert job is not None
            keys.append(job.key)
        return scan, keys

    async def finished(self, handles: list[str]) -> bool:
        jobs = await self.queue.jobs(handles)
        return all(job is not None and job.status == Status.COMPLETE for job in jobs)

    async def hold(self) -> str:
        job = await self.queue.enqueue("hold", timeout=0)
        assert job is not None
        while await self.status("", job.key) != Status.ACTIVE.value:
            await asyncio.sleep(POLL_S)
        return job.key


QUEUE = web.AppKey("saq_queue", Queue)


async def read_status(request: web.Request) -> web.Response:
    job = await request.app[QUEUE].job(request.match_info["job_id"])
    if job is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(job.to_dict())


async def status_app() -> web.Application:
    app = web.Application()

    async def queue_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app[QUEUE] = make_queue()
        await app[QUEUE].connect()
        yield
        await app[QUEUE].disconnect()

    app.cleanup_ctx.append(queue_ctx)
    app.router.add_get("/status/{job_id}", read_status)
    return app
