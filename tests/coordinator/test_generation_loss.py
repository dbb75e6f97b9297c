"""After Redis lost its data, nothing but the recovery command reopens the
service: a worker (re)started meanwhile fails closed too instead of making a
fresh marker, and a marker the recovery command did not write is not adopted."""

from __future__ import annotations

from coordinator.store import keys
from coordinator.store.generation import GenerationGuard, write_new_generation

HEARTBEAT_MS = 1


async def test_worker_restarted_after_data_loss_fails_closed_until_recovery(fake_redis) -> None:  # type: ignore[no-untyped-def]
    running = GenerationGuard(fake_redis)
    await running.establish()
    await fake_redis.flushall()  # Redis came back empty
    await running.check()
    assert running.lost
    # The failing-closed worker keeps heartbeating into the (new, empty) registry.
    await fake_redis.zadd(keys.workers_index(), {"host:1": HEARTBEAT_MS})
    restarted = GenerationGuard(fake_redis)
    assert await restarted.establish() is None
    assert restarted.lost and await fake_redis.get(keys.GENERATION_KEY) is None
    marker = await write_new_generation(fake_redis)
    for guard in (running, restarted):
        await guard.check()
        assert not guard.lost and guard.expected == marker


async def test_worker_restarted_before_any_heartbeat_still_fails_closed(fake_redis) -> None:  # type: ignore[no-untyped-def]
    running = GenerationGuard(fake_redis)
    await running.establish()
    await fake_redis.flushall()
    await running.check()  # noticed first: records the loss, the registry is still empty
    restarted = GenerationGuard(fake_redis)
    assert await restarted.establish() is None
    assert restarted.lost and await fake_redis.get(keys.GENERATION_KEY) is None


async def test_a_marker_not_written_by_recovery_is_data_loss_not_recovery(fake_redis) -> None:  # type: ignore[no-untyped-def]
    guard = GenerationGuard(fake_redis)
    await guard.establish()
    await fake_redis.set(keys.GENERATION_KEY, "made-by-a-worker-on-an-empty-redis")
    await guard.check()
    assert guard.lost
    await write_new_generation(fake_redis)
    await guard.check()
    assert not guard.lost
