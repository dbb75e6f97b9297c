"""Celery as a scan service: a scan is a `chord` of one task per strategy and a callback.

Tuned as its docs allow: Redis broker and result backend, prefetch multiplier
PREFETCH, thread pool of CONCURRENCY, gossip/mingle/heartbeat off, started
state tracked (so a running task reads STARTED); the client polls `ready()`
every POLL_S. With BENCH_CELERY_TAKEOVER=1 (the takeover run): `acks_late`,
`task_reject_on_worker_lost` and a visibility timeout of VISIBILITY_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis
from aiohttp import web
from celery import Celery, chord, states
from celery.result import AsyncResult

from bench.adapters.costs import HOLD_S, burn_cpu, cost_of, pid_key, redis_url, started_key

POLL_S = 0.01
CONCURRENCY = 16
PREFETCH = 4
CLIENT_THREADS = 32
# The smallest visibility timeout a 2 s step outlives with room to spare.
VISIBILITY_TIMEOUT_S = 5
TAKEOVER = os.environ.get("BENCH_CELERY_TAKEOVER") == "1"
KNOWN = frozenset(states.ALL_STATES) - {states.PENDING}  # PENDING also means "unknown id"

app = Celery("bench", broker=redis_url(), backend=redis_url())
app.conf.update(
    task_track_started=True,
    worker_prefetch_multiplier=PREFETCH,
    result_expires=3600,
    task_acks_late=TAKEOVER,
    task_reject_on_worker_lost=TAKEOVER,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S} if TAKEOVER else {},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_redis = redis.Redis.from_url(redis_url())


@app.task(name="noop")
def noop() -> None:
    return None


@app.task(name="cpu_1ms")
def cpu_1ms() -> None:
    burn_cpu()


@app.task(name="finish")
def finish(results: list[object]) -> int:
    return len(results)


@app.task(name="step")
def step(scan: str, index: int, seconds: float) -> int:
    _redis.incr(started_key(scan, index))
    _redis.set(pid_key(scan, index), os.getpid())
    time.sleep(seconds)
    return index


@app.task(name="hold")
def hold() -> None:
    time.sleep(HOLD_S)


TASKS = {"noop": noop, "cpu_1ms": cpu_1ms}


class PeerClient:
    name = "celery"

    async def open(self) -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(CLIENT_THREADS))

    async def close(self) -> None:
        return None

    async def run_scan(self, user: str, strategies: list[str]) -> None:
        task = TASKS[cost_of(strategies[0])]
        result = await asyncio.to_thread(lambda: chord(task.s() for _ in strategies)(finish.s()))
        while not await asyncio.to_thread(result.ready):
            await asyncio.sleep(POLL_S)

    async def submit(self, user: str, strategies: list[str]) -> str:
        task = TASKS[cost_of(strategies[0])]
        result = await asyncio.to_thread(task.delay)
        return str(result.id)

    async def status(self, user: str, task_id: str) -> str | None:
        state = await asyncio.to_thread(lambda: AsyncResult(task_id, app=app).state)
        return str(state) if state in KNOWN else None

    async def start_steps(self, count: int, seconds: float) -> tuple[str, list[str]]:
        scan = uuid.uuid4().hex
        ids = []
        for i in range(count):
            result = await asyncio.to_thread(step.delay, scan, i, seconds)
            ids.append(str(result.id))
        return scan, ids

    async def finished(self, handles: list[str]) -> bool:
        def all_done() -> bool:
            return all(AsyncResult(h, app=app).state == states.SUCCESS for h in handles)

        return await asyncio.to_thread(all_done)

    async def hold(self) -> str:
        result = await asyncio.to_thread(hold.delay)
        while await self.status("", str(result.id)) != states.STARTED:
            await asyncio.sleep(POLL_S)
        return str(result.id)


async def read_status(request: web.Request) -> web.Response:
    # Celery's result API is synchronous: called inline, as the cheapest way to serve it.
    result = AsyncResult(request.match_info["job_id"], app=app)
    state, info = result.state, result.info
    return web.json_response({"task_id": result.id, "state": state, "info": repr(info)})


async def status_app() -> web.Application:
    application = web.Application()
    application.router.add_get("/status/{job_id}", read_status)
    return application
