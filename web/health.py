"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from coordinator.store.codec import json_encoder
from web.handlers import JSON
from web.keys import COORDINATOR, REDIS
from web.schemas import Health, Readiness

# Reason codes: the answer names what is wrong, never where (no host, port, URL or
# password: a Redis error's text carries the address it failed on) nor a traceback.
# The operator finds the details in the workers' logs; recovery after data loss is
# `python -m coordinator.recover` (README, Operations).
REDIS_UNREACHABLE = "redis_unreachable"
REDIS_DATA_LOST = "redis_data_lost"


def respond(body: Health | Readiness, status: int = 200) -> web.Response:
    return web.Response(body=json_encoder.encode(body), status=status, content_type=JSON)


async def healthz(request: web.Request) -> web.Response:
    return respond(Health(status="ok"))


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers and holds the generation this worker runs on."""
    coordinator = request.config_dict[COORDINATOR]
    try:
        await request.config_dict[REDIS].ping()
    except (RedisError, OSError):
        return respond(Readiness(ready=False, reason=REDIS_UNREACHABLE), 503)
    if coordinator.generation.lost:
        return respond(Readiness(ready=False, reason=REDIS_DATA_LOST), 503)
    return respond(Readiness(ready=True))
