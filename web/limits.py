"""Per-user limits on long-lived connections, and the context that keeps this
process's share of them (and the 401 limiter) running."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from coordinator.process.clock import MS_PER_S
from coordinator.service.auth_failures import AuthFailures
from coordinator.service.connection_slots import ConnectionKind, ConnectionSlots
from coordinator.service.periodic import run_periodic
from coordinator.store import keys
from web.auth import principal_of
from web.auth_guard import AUTH_GUARD, AuthGuard
from web.errors import ApiError
from web.keys import COORDINATOR, REDIS, SETTINGS

log = structlog.get_logger(__name__)
CONNECTION_SLOTS = web.AppKey("connection_slots", ConnectionSlots)
WHAT_IS_HELD = {
    ConnectionKind.WEBSOCKET: ("too_many_websockets", "open websockets"),
    ConnectionKind.WAIT: ("too_many_waits", "requests waiting with `Prefer: wait`"),
}


@contextlib.asynccontextmanager
async def holding(request: web.Request, kind: ConnectionKind) -> AsyncIterator[None]:
    """One of the caller's slots of `kind` for the block, or 429 with Retry-After when
    they hold the most allowed. Given back when the block ends, however it ends."""
    slots = request.config_dict[CONNECTION_SLOTS]
    slot = await slots.take(kind, principal_of(request).user_id)
    if slot is None:
        code, what = WHAT_IS_HELD[kind]
        # A slot frees when one of the caller's own connections ends; a dead worker's
        # slots lapse within the slot TTL, the longest a stale count can stand.
        raise ApiError(
            429,
            code,
            f"at most {slots.limit(kind)} {what} per user at once; close one or retry later",
            headers={"Retry-After": str(math.ceil(slots.ttl_ms / MS_PER_S))},
        )
    try:
        yield
    finally:
        try:
            await slots.release(slot)
        except (RedisError, OSError) as exc:  # not refreshed any more: it lapses
            log.warning("connection_slot_not_released", kind=kind.value, error=type(exc).__name__)


async def limits_ctx(app: web.Application) -> AsyncIterator[None]:
    """The connection slots and the 401 limiter of this process; its slots are
    refreshed on every worker heartbeat until it stops."""
    settings = app[SETTINGS]
    slots = ConnectionSlots(app[REDIS], settings)
    app[CONNECTION_SLOTS] = slots
    app[AUTH_GUARD] = AuthGuard(AuthFailures(app[REDIS], settings), settings)
    stop = asyncio.Event()
    interval_s = keys.connection_slot_refresh_interval_s(settings)
    await app[COORDINATOR].spawn(
        run_periodic("refresh_connection_slots", interval_s, slots.refresh, stop)
    )
    yield
    stop.set()
