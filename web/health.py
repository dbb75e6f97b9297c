"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from web.keys import COORDINATOR, REDIS


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers and holds the generation this worker runs on."""
    coordinator = request.config_dict[COORDINATOR]
    try:
        await request.config_dict[REDIS].ping()
    except (RedisError, OSError) as exc:
        return web.json_response(
            {"ready": False, "reason": f"redis unreachable: {exc}"}, status=503
        )
    if coordinator.generation.lost:
        return web.json_response(
            {
                "ready": False,
                "reason": "Redis lost its data (generation marker missing); "
                "run `python -m coordinator.recover`",
            },
            status=503,
        )
    return web.json_response({"ready": True, "worker_id": coordinator.settings.worker_id})
