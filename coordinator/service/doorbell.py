"""The doorbell: a worker's pub/sub channel saying 'a scan you own has mail'.

An append rings the owner's doorbell (see append_mailbox.lua); the listener
wakes that scan's actor. Pub/sub drops what is published while it reconnects,
so every (re)connection wakes every owned scan, and the owners' batched mailbox
recheck is the safety net behind it.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import RedisError

from coordinator.process.failure_streak import FailureStreak
from coordinator.service.owned_scans import OwnedScans
from coordinator.store import keys

# Pause after the subscription failed (Redis down) before the next try.
RECONNECT_BACKOFF_S = 0.2


async def listen_doorbell(
    redis: Redis, worker_id: str, owned: OwnedScans, stop: asyncio.Event
) -> None:
    channel = keys.doorbell_channel(worker_id)
    streak = FailureStreak("doorbell_reconnect", "doorbell_reconnected")
    while not stop.is_set():
        try:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(channel)
                streak.succeeded()
                await owned.wake_all()  # bells rung while we were away are lost
                # redis-py also reconnects by itself, raising nothing: hear of it.
                connection = pubsub.connection
                if connection is not None:
                    connection.register_connect_callback(owned.wake_all)
                try:
                    async for message in pubsub.listen():
                        owned.poke(message["data"].decode())
                finally:
                    if connection is not None:
                        connection.deregister_connect_callback(owned.wake_all)
        except RedisError as exc:
            streak.failed(exc)
            await asyncio.sleep(RECONNECT_BACKOFF_S)
