"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from coordinator.store.codec import json_encoder
from web.handlers import JSON
from web.keys import COORDINATOR, REDIS
from web.schemas import Health, Readiness

RECOVERY_HINT = (
    "Redis lost its data (generation marker missing); run `python -m coordinator.recover`"
)


def respond(body: Health | Readiness, status: int = 200) -> web.Response:
    return web.Response(body=json_encoder.encode(body), status=status, content_type=JSON)


async def healthz(request: web.Request) -> web.Response:
    return respond(Health(status="ok"))


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers and holds the generation this worker runs on."""
    coordinator = request.config_dict[COORDINATOR]
    try:
        await request.config_dict[REDIS].ping()
    except (RedisError, OSError) as exc:
        return respond(Readiness(ready=False, reason=f"redis unreachable: {exc}"), 503)
    if coordinator.generation.lost:
        return respond(Readiness(ready=False, reason=RECOVERY_HINT), 503)
    return respond(Readiness(ready=True, worker_id=coordinator.settings.worker_id))
