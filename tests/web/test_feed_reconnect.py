"""The feed hub re-reads every followed snapshot when its pub/sub connection
comes back, because pub/sub drops what is published while it is away: also
when redis-py reconnects by itself, without an error reaching the hub."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from coordinator.store import keys
from web.feed import HUB_REFRESH_S, FeedHub

SCAN_ID = "f" * 32
# Well under the hub's periodic full refresh: only a re-read on reconnect is this fast.
PROMPT_S = HUB_REFRESH_S / 5


def snapshot(version: int) -> bytes:
    return json.dumps({"scan_id": SCAN_ID, "version": version, "status": "running"}).encode()


async def test_snapshot_lost_while_pubsub_was_killed_arrives_at_once(redis: Redis) -> None:
    hub = FeedHub(redis, "feedtest:1")
    stop = asyncio.Event()
    await redis.hset(keys.scan(SCAN_ID), "snap", snapshot(1))
    listening = asyncio.ensure_future(hub.run(stop))
    subscriber = hub.follow(SCAN_ID)
    try:
        first = await asyncio.wait_for(subscriber.next(), PROMPT_S)
        assert json.loads(first.body)["version"] == 1
        # Version 2 is published while the hub cannot hear it: its message is lost.
        await redis.hset(keys.scan(SCAN_ID), "snap", snapshot(2))
        killed = await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed >= 1
        received = json.loads((await asyncio.wait_for(subscriber.next(), PROMPT_S)).body)
        assert received["version"] == 2
    finally:
        hub.leave(subscriber)
        stop.set()
        await asyncio.wait_for(listening, HUB_REFRESH_S)
