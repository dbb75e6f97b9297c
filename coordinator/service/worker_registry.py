"""Live workers for the admin listing: each coordinator heartbeats its load."""

from __future__ import annotations

from redis.asyncio import Redis

from config.settings import Settings
from coordinator.process.clock import MS_PER_S, now_ms
from coordinator.store import keys
from coordinator.store.codec import json_encoder, worker_beat_decoder
from coordinator.store.records import WorkerBeat, WorkerView


async def heartbeat(redis: Redis, settings: Settings, beat: WorkerBeat) -> None:
    stale_before = beat.heartbeat_ms - keys.worker_info_ttl_ms(settings)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(
            keys.worker_info(beat.worker_id),
            json_encoder.encode(beat),
            px=keys.worker_info_ttl_ms(settings),
        )
        pipe.zadd(keys.workers_index(), {beat.worker_id: beat.heartbeat_ms})
        pipe.zremrangebyscore(keys.workers_index(), "-inf", stale_before)
        await pipe.execute()


async def leave(redis: Redis, worker_id: str) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(keys.worker_info(worker_id))
        pipe.zrem(keys.workers_index(), worker_id)
        await pipe.execute()


async def live_workers(redis: Redis) -> list[WorkerView]:
    ids = [raw.decode() for raw in await redis.zrange(keys.workers_index(), 0, -1)]
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:  # not MGET: keys span Cluster slots
        for worker_id in ids:
            pipe.get(keys.worker_info(worker_id))
        bodies = await pipe.execute()
    now = now_ms()
    views = []
    for body in bodies:
        if body is None:
            continue
        beat = worker_beat_decoder.decode(body)
        views.append(
            WorkerView(
                worker_id=beat.worker_id,
                pid=beat.pid,
                heartbeat_age_ms=now - beat.heartbeat_ms,
                uptime_s=round((now - beat.started_at_ms) / MS_PER_S, 3),
                scans=beat.scans,
                strategy_tasks=beat.strategy_tasks,
            )
        )
    return views
