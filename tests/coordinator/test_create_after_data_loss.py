"""A worker whose watchdog has not yet noticed that Redis came back empty must
still refuse to start a scan on it: the create reads the generation marker
itself, before its first write and again after its last."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from coordinator.errors import GenerationLost
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.generation import GenerationGuard
from tests.support import StaticProvider, diagnostic_registry, make_settings


@pytest.fixture
async def scans(redis: Redis, shared_redis_server) -> Scans:  # type: ignore[no-untyped-def]
    # A guard with no watchdog behind it: only the create path can notice the loss.
    guard = GenerationGuard(redis)
    await guard.establish()
    settings = make_settings(redis_url=shared_redis_server.url)
    return Scans(redis, settings, diagnostic_registry(), StaticProvider().symbols(), guard)


async def test_create_on_a_redis_that_came_back_empty_is_refused_before_any_write(
    redis: Redis, scans: Scans
) -> None:
    await redis.flushall()
    with pytest.raises(GenerationLost):
        await scans.create("alice", ["noop"], None, None)
    assert await redis.get(keys.user_active("alice")) is None
    assert await redis.keys(keys.scan("*")) == []


async def test_create_whose_writes_land_on_an_emptied_redis_hands_out_no_id(
    redis: Redis, scans: Scans, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis restarts empty between the create's first read and its writes (a
    # command retried across the restart): the id must not reach the user.
    take_start_slot = scans.take_start_slot

    async def emptied_then_take(user_id: str) -> None:
        await redis.flushall()
        await take_start_slot(user_id)

    monkeypatch.setattr(scans, "take_start_slot", emptied_then_take)
    with pytest.raises(GenerationLost):
        await scans.create("alice", ["noop"], None, None)
    assert await redis.get(keys.user_active("alice")) is None
