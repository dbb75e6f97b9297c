"""A worker that starts while Redis is away waits for it instead of exiting:
under gunicorn, a worker exiting at boot ("worker failed to boot") makes the
master shut the whole service down, so a Redis blip during a worker restart
must not be fatal."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.service.coordinator import Coordinator
from coordinator.store.redis_client import connect
from tests.support import StaticProvider, diagnostic_registry, eventually, make_settings

START_TIMEOUT_S = 10.0


async def test_coordinator_started_while_redis_is_down_waits_and_starts_when_it_returns(
    redis_server: EmbeddedRedis,
) -> None:
    redis_server.stop()
    redis = connect(redis_server.url)
    coordinator = Coordinator(
        redis, make_settings(redis_url=redis_server.url), diagnostic_registry(), StaticProvider()
    )
    try:
        with capture_logs() as logs:
            starting = asyncio.ensure_future(coordinator.start())

            async def waiting() -> bool:
                assert not starting.done() or starting.exception() is None, starting.exception()
                return any(line["event"] == "redis_unavailable_at_start" for line in logs)

            await eventually(waiting, what="the coordinator to wait for Redis")
            redis_server.start()
            await asyncio.wait_for(starting, timeout=START_TIMEOUT_S)
        assert coordinator.generation.expected is not None
    finally:
        await coordinator.stop()
        await redis.aclose()
