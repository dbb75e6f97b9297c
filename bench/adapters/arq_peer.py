"""arq as a scan service: a scan enqueues one job per strategy and polls the results.

Tuned as its docs allow: worker and client poll every POLL_S instead of 0.5 s,
max_jobs = MAX_JOBS, results kept; takeover relies on the in-progress key's
expiry (job_timeout + 10 s), so job_timeout is as short as the job allows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import uvloop
from aiohttp import web
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job, JobStatus

from bench.adapters.costs import HOLD_S, burn_cpu, cost_of, pid_key, redis_url, started_key

# The peers' workers and clients run on the service's event loop (uvloop), tuned alike.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

POLL_S = 0.01
MAX_JOBS = 16
# Longest benchmark job is a 2 s takeover step: a 3 s timeout makes the
# in-progress key expire 13 s after a dead worker took the job.
TAKEOVER_JOB_TIMEOUT_S = 3
KNOWN = frozenset({JobStatus.deferred, JobStatus.queued, JobStatus.in_progress, JobStatus.complete})


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def cpu_1ms(ctx: dict[str, Any]) -> None:
    burn_cpu()


async def step(ctx: dict[str, Any], scan: str, index: int, seconds: float) -> int:
    redis: ArqRedis = ctx["redis"]
    await redis.incr(started_key(scan, index))
    await redis.set(pid_key(scan, index), os.getpid())
    await asyncio.sleep(seconds)
    return index


async def hold(ctx: dict[str, Any]) -> None:
    await asyncio.sleep(HOLD_S)


def settings() -> RedisSettings:
    return RedisSettings.from_dsn(redis_url())


class WorkerSettings:
    functions = (noop, cpu_1ms, step, hold)
    redis_settings = settings()
    max_jobs = MAX_JOBS
    poll_delay = POLL_S
    job_timeout = 700
    keep_result = 3600


class PeerClient:
    name = "arq"

    def __init__(self) -> None:
        self.pool: ArqRedis | None = None

    async def open(self) -> None:
        self.pool = await create_pool(settings())

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()

    async def enqueue(self, function: str, *args: object, **kwargs: object) -> Job:
        assert self.pool is not None
        job = await self.pool.enqueue_job(function, *args, **kwargs)
        assert job is not None
        return job

    async def run_scan(self, user: str, strategies: list[str]) -> None:
        jobs = [await self.enqueue(cost_of(name)) for name in strategies]
        await asyncio.gather(*(job.result(poll_delay=POLL_S) for job in jobs))

    async def submit(self, user: str, strategies: list[str]) -> str:
        return (await self.enqueue(cost_of(strategies[0]))).job_id

    async def status(self, user: str, job_id: str) -> str | None:
        assert self.pool is not None
        status = await Job(job_id, self.pool).status()
        return status.value if status in KNOWN else None

    async def start_steps(self, count: int, seconds: float) -> tuple[str, list[str]]:
        scan = uuid.uuid4().hex
        jobs = [await self.enqueue("step", scan, i, seconds) for i in range(count)]
        return scan, [job.job_id for job in jobs]

    async def finished(self, handles: list[str]) -> bool:
        assert self.pool is not None
        statuses = await asyncio.gather(*(Job(h, self.pool).status() for h in handles))
        return all(status == JobStatus.complete for status in statuses)

    async def hold(self) -> str:
        job = await self.enqueue("hold")
        while await self.status("", job.job_id) != JobStatus.in_progress.value:
            await asyncio.sleep(POLL_S)
        return job.job_id


class TakeoverWorkerSettings:
    # arq reads a settings class's own attributes only: no inheritance here.
    functions = WorkerSettings.functions
    redis_settings = WorkerSettings.redis_settings
    max_jobs = MAX_JOBS
    poll_delay = POLL_S
    job_timeout = TAKEOVER_JOB_TIMEOUT_S
    keep_result = WorkerSettings.keep_result


POOL = web.AppKey("arq_pool", ArqRedis)


async def read_status(request: web.Request) -> web.Response:
    status = await Job(request.match_info["job_id"], request.app[POOL]).status()
    return web.json_response({"job_id": request.match_info["job_id"], "status": status.value})


async def status_app() -> web.Application:
    """The peer's status API behind the same aiohttp server as the floor."""
    app = web.Application()

    async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app[POOL] = await create_pool(settings())
        yield
        await app[POOL].aclose()

    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/status/{job_id}", read_status)
    return app
