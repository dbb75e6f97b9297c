"""The generation marker, step by step on fakeredis (plain GET/SET: faithful there)."""

from __future__ import annotations

import pytest

from coordinator.errors import GenerationLost
from coordinator.store import keys
from coordinator.store.generation import GenerationGuard, write_new_generation


async def test_first_worker_creates_the_marker_and_others_adopt_it(fake_redis) -> None:  # type: ignore[no-untyped-def]
    first, second = GenerationGuard(fake_redis), GenerationGuard(fake_redis)
    marker = await first.establish()
    assert await second.establish() == marker


async def test_missing_marker_fails_closed_until_recovery(fake_redis) -> None:  # type: ignore[no-untyped-def]
    guard = GenerationGuard(fake_redis)
    await guard.establish()
    await fake_redis.delete(keys.GENERATION_KEY)
    with pytest.raises(GenerationLost):
        await guard.verify()
    await guard.check()  # still missing: still closed, never re-created by a worker
    assert guard.lost and await fake_redis.get(keys.GENERATION_KEY) is None
    marker = await write_new_generation(fake_redis)
    await guard.check()
    assert not guard.lost and guard.expected == marker
    guard.ensure_ok()
