"""A new follower's scan is subscribed at once, not when the hub's wait for a
message ends: a socket opened on a quick scan must not wait out that timeout
for its next snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from redis.asyncio import Redis

from coordinator.store import keys
from tests.support import eventually
from web import feed
from web.feed import FeedHub

SCAN_ID = "e" * 32
# The hub's wait for a message, made far longer than this test may take: only a
# subscription made outside that wait lets the snapshot through.
LISTEN_WAIT_S = 120.0
DELIVERY_TIMEOUT_S = 10.0


def snapshot(version: int) -> bytes:
    return json.dumps({"scan_id": SCAN_ID, "version": version, "status": "running"}).encode()


async def test_a_new_follower_hears_the_next_publish_without_waiting_for_the_listener(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "HUB_POLL_S", LISTEN_WAIT_S)
    hub = FeedHub(redis, "feedtest:2")
    stop = asyncio.Event()
    await redis.hset(keys.scan(SCAN_ID), "snap", snapshot(1))
    listening = asyncio.ensure_future(hub.run(stop))

    async def listener_waiting() -> bool:
        numsub = await redis.pubsub_numsub(keys.feed_channel("feedtest:2"))
        return bool(numsub and numsub[0][1])

    await eventually(listener_waiting, what="the hub listening on its own channel")
    subscriber = hub.follow(SCAN_ID)
    try:
        first = await asyncio.wait_for(subscriber.next(), DELIVERY_TIMEOUT_S)
        assert json.loads(first.body)["version"] == 1  # the re-read after subscribing

        async def subscribed() -> bool:
            numsub = await redis.pubsub_numsub(keys.events_channel(SCAN_ID))
            return bool(numsub and numsub[0][1])

        await eventually(subscribed, what="the scan's channel subscribed")
        await redis.publish(keys.events_channel(SCAN_ID), snapshot(2))
        received = await asyncio.wait_for(subscriber.next(), DELIVERY_TIMEOUT_S)
        assert json.loads(received.body)["version"] == 2
    finally:
        hub.leave(subscriber)
        stop.set()
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
