"""The floor of a status read: an aiohttp handler doing one Redis GET of a 2 KB value."""

from __future__ import annotations

import os

from aiohttp import web
from redis.asyncio import Redis

FLOOR_KEY = "bench:floor"
FLOOR_VALUE_BYTES = 2048
REDIS = web.AppKey("redis", Redis)


async def read(request: web.Request) -> web.Response:
    body = await request.app[REDIS].get(FLOOR_KEY)
    return web.Response(body=body, content_type="application/json")


async def status_app() -> web.Application:
    app = web.Application()

    async def redis_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app[REDIS] = Redis.from_url(os.environ["BENCH_REDIS_URL"])
        await app[REDIS].set(FLOOR_KEY, b'{"v":"' + b"x" * (FLOOR_VALUE_BYTES - 8) + b'"}')
        yield
        await app[REDIS].aclose()

    app.cleanup_ctx.append(redis_ctx)
    app.router.add_get("/status/{job_id}", read)
    return app
