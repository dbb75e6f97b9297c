"""Concurrent strategy tasks' appends to one scan's mailbox, acknowledgements on one
work stream and reads of one scan each go to Redis as one command per round trip,
and every caller still gets exactly its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from coordinator.actor.mailbox import Mailbox
from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.store import keys
from coordinator.store.codec import mailbox_decoder
from coordinator.store.records import Started, WorkItem
from coordinator.store.redis_client import connect
from coordinator.store.work import WorkQueue, decode_item
from tests.support import make_settings

SCAN = "0123456789abcdef0123456789abcdef"
CALLERS = 8


@pytest.fixture
async def client(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    """A client of a redis-server of this test's own, so its command counts are ours."""
    redis = connect(redis_server.url)
    yield redis
    await redis.aclose()


@pytest.fixture
def work(client: Redis, redis_server: EmbeddedRedis) -> WorkQueue:
    return WorkQueue(client, make_settings(redis_url=redis_server.url, index_buckets=1))


async def command_calls(redis: Redis, command: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def live_scan(redis: Redis, status: str = "running") -> None:
    await redis.hset(keys.scan(SCAN), mapping={"status": status, "epoch": 1})
    await redis.xadd(keys.mailbox(SCAN), {"m": b""})


def started(n: int) -> Started:
    return Started(strategy=f"s{n}", attempt=1, worker="w:1", at_ms=n)


async def test_concurrent_appends_to_one_scan_are_one_script_call_in_order(
    client: Redis,
) -> None:
    await live_scan(client)
    mailbox = Mailbox(client)
    await client.config_resetstat()

    ids = await asyncio.gather(*(mailbox.append(SCAN, started(n)) for n in range(CALLERS)))

    assert await command_calls(client, "eval") == 1
    assert await command_calls(client, "xadd") == CALLERS
    entries = (await client.xrange(keys.mailbox(SCAN)))[1:]  # after the seed entry
    # Each caller got the id of its own message, and the order is the callers'.
    assert [entry_id.decode() for entry_id, _fields in entries] == ids
    decoded = [mailbox_decoder.decode(fields[b"m"]) for _id, fields in entries]
    assert decoded == [started(n) for n in range(CALLERS)]


async def test_appends_to_a_finished_scan_are_all_refused(client: Redis) -> None:
    await live_scan(client, status="completed")
    mailbox = Mailbox(client)

    ids = await asyncio.gather(*(mailbox.append(SCAN, started(n)) for n in range(3)))

    assert ids == [None, None, None]
    assert await client.xlen(keys.mailbox(SCAN)) == 1  # the seed alone


async def test_concurrent_acks_on_one_stream_are_one_script_call_each_judged_alone(
    client: Redis, work: WorkQueue
) -> None:
    await work.ensure_groups()
    stream = keys.work_stream(0)
    for _n in range(4):
        await client.xadd(stream, {"w": b"x"})
    tasks = await work.take(0, 4, 0)
    # The third task was delivered again since (reclaimed): its ack must not land.
    await client.xclaim(stream, keys.WORK_GROUP, "other:2", 0, [tasks[2].entry_id])
    await client.config_resetstat()

    acked = await asyncio.gather(*(work.acks_unless_superseded([task]) for task in tasks))

    assert acked == [[True], [True], [False], [True]]
    assert await command_calls(client, "eval") == 1
    pending = await client.xpending_range(stream, keys.WORK_GROUP, "-", "+", 10)
    assert [p["message_id"].decode() for p in pending] == [tasks[2].entry_id]


async def test_a_scans_work_items_are_one_script_call_in_order(
    client: Redis, work: WorkQueue
) -> None:
    items = [
        WorkItem(scan_id=SCAN, strategy=f"s{n}", symbols=["BTC/USDT"], deadline_ms=n)
        for n in range(CALLERS)
    ]
    await client.config_resetstat()

    async with client.pipeline(transaction=False) as pipe:
        work.enqueue_in(pipe, items)
        await pipe.execute()

    assert await command_calls(client, "eval") == 1
    assert await command_calls(client, "xadd") == CALLERS
    entries = await client.xrange(keys.work_stream(0))
    assert [decode_item(fields) for _id, fields in entries] == items
