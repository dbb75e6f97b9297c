"""AutoPipeline: concurrent callers share round trips, and each gets its own replies
and its own errors, on a single Redis and on Cluster."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline, same_reply
from coordinator.store.redis_client import connect
from coordinator.store.scripts import queue_call
from coordinator.store.scripts.scan import AppendMailbox
from tests.chaos import redis_faults
from tests.redis_cluster import LocalCluster

CALLERS = 20
# The bound on one round trip in the paused-Redis test.
PAUSED_ROUND_TRIP_TIMEOUT_S = 0.3
# How long a command waits for the one connection of a one-connection pool.
ONE_CONNECTION_WAIT_S = 5.0


class CountingRedis:
    """The client, with a count of the pipelines it sent."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.pipelines = 0

    def pipeline(self, transaction: bool = True) -> Pipeline:
        self.pipelines += 1
        return self.redis.pipeline(transaction=transaction)


async def test_concurrent_callers_share_round_trips_and_get_their_own_replies(
    redis: Redis,
) -> None:
    counting = CountingRedis(redis)
    autopipe = AutoPipeline(counting)  # type: ignore[arg-type]
    for n in range(CALLERS):
        await redis.set(f"autopipe:{n}", n)

    replies = await asyncio.gather(
        *(autopipe.run(lambda pipe, n=n: pipe.get(f"autopipe:{n}")) for n in range(CALLERS))
    )

    assert replies == [[str(n).encode()] for n in range(CALLERS)]
    # All twenty queued in the same loop turn: one round trip, not twenty.
    assert counting.pipelines == 1


async def test_an_error_goes_to_its_caller_only(redis: Redis) -> None:
    autopipe = AutoPipeline(redis)
    await redis.set("autopipe:string", "x")

    def both(pipe: Pipeline) -> None:
        pipe.set("autopipe:other", "y")
        pipe.hget("autopipe:string", "field")  # WRONGTYPE

    ok, failed = await asyncio.gather(
        autopipe.run(lambda pipe: pipe.get("autopipe:string")),
        autopipe.run(both),
        return_exceptions=True,
    )

    assert ok == [b"x"]
    assert isinstance(failed, ResponseError) and "WRONGTYPE" in str(failed)


async def test_scripts_and_commands_on_cluster(redis_cluster: LocalCluster) -> None:
    """A queued command returns the pipeline itself; awaiting a Cluster pipeline would
    re-initialise it and drop what was queued (the bug this guards against)."""
    redis = connect(redis_cluster.url)
    autopipe = AutoPipeline(redis)
    try:
        await redis.xadd(keys.mailbox("autopipe"), {"m": b"seed"})
        await redis.hset(keys.scan("autopipe"), "status", "running")

        def append(pipe: Pipeline) -> None:
            queue_call(
                pipe, AppendMailbox(scan_id="autopipe", local_worker="", messages=[b"message"])
            )

        appended, fields = await asyncio.gather(
            autopipe.run(append),
            autopipe.run(lambda pipe: pipe.hmget(keys.scan("autopipe"), ["status", "epoch"])),
        )

        # The entry before it (the seed), then its own.
        assert len(appended) == 1 and len(appended[0]) == 2 and b"-" in appended[0][1]
        assert fields == [[b"running", None]]
    finally:
        await redis.aclose()


@pytest.mark.parametrize("cancelled_first", [True, False])
async def test_a_cancelled_caller_does_not_disturb_the_others(
    redis: Redis, cancelled_first: bool
) -> None:
    autopipe = AutoPipeline(redis)
    await redis.set("autopipe:kept", "kept")
    first = asyncio.ensure_future(autopipe.run(lambda pipe: pipe.get("autopipe:kept")))
    second = asyncio.ensure_future(autopipe.run(lambda pipe: pipe.get("autopipe:kept")))
    await asyncio.sleep(0)  # both queued
    (first if cancelled_first else second).cancel()

    survivor = second if cancelled_first else first
    assert await survivor == [b"kept"]


async def test_a_group_goes_as_one_command_and_each_caller_gets_its_share(
    redis: Redis,
) -> None:
    autopipe = AutoPipeline(redis)
    commands: list[int] = []

    def queue_lengths(pipe: Pipeline, key: str, items: list[str]) -> None:
        commands.append(len(items))
        pipe.eval("return ARGV", 0, *(f"{key}:{item}" for item in items))

    def split(reply: list[bytes], count: int) -> list[bytes]:
        assert len(reply) == count
        return reply

    replies = await asyncio.gather(
        *(autopipe.run_grouped(queue_lengths, split, "a" if n % 2 else "b", n) for n in range(6))
    )

    # Two groups, one command each, every caller its own element, in order.
    assert sorted(commands) == [3, 3]
    assert replies == [f"{'a' if n % 2 else 'b'}:{n}".encode() for n in range(6)]


async def test_a_failed_group_command_fails_that_group_only(redis: Redis) -> None:
    autopipe = AutoPipeline(redis)
    await redis.set("autopipe:string", "x")

    def bad(pipe: Pipeline, key: str, items: list[int]) -> None:
        pipe.hget(key, "field")  # WRONGTYPE

    results = await asyncio.gather(
        autopipe.run_grouped(bad, same_reply, "autopipe:string", 1),
        autopipe.run_grouped(bad, same_reply, "autopipe:string", 2),
        autopipe.run(lambda pipe: pipe.get("autopipe:string")),
        return_exceptions=True,
    )

    assert all(isinstance(r, ResponseError) for r in results[:2])
    assert results[2] == [b"x"]


async def test_a_round_trip_to_a_paused_redis_times_out_without_a_socket_timeout(
    redis_server: EmbeddedRedis,
) -> None:
    """The process's auto-pipeline client has no socket timeout (a timer per reply
    read costs more than the commands); its one bound per round trip must still
    free the callers when Redis stops answering."""
    redis = connect(redis_server.url, socket_timeout_s=None)
    autopipe = AutoPipeline(redis, round_trip_timeout_s=PAUSED_ROUND_TRIP_TIMEOUT_S)
    try:
        assert await autopipe.run(lambda pipe: pipe.ping()) == [True]
        redis_faults.pause(redis_server)
        try:
            with pytest.raises(RedisTimeoutError):
                await asyncio.wait_for(
                    autopipe.run(lambda pipe: pipe.ping()), PAUSED_ROUND_TRIP_TIMEOUT_S * 20
                )
        finally:
            redis_faults.resume(redis_server)
        # The connection the timeout cut is not reused half-read: the next call works.
        assert await autopipe.run(lambda pipe: pipe.ping()) == [True]
    finally:
        await redis.aclose()


async def test_the_connection_held_for_a_burst_goes_back_to_the_pool(
    shared_redis_server: EmbeddedRedis,
) -> None:
    """Round trips that follow one another share one held connection; once callers
    stop, it goes back. With a pool of one connection, a command of the client's
    own waits for it (and fails after the pool's wait if it never came back)."""
    pool = BlockingConnectionPool.from_url(
        shared_redis_server.url, max_connections=1, timeout=ONE_CONNECTION_WAIT_S
    )
    redis = Redis.from_pool(pool)
    autopipe = AutoPipeline(redis)
    try:
        first = asyncio.ensure_future(autopipe.run(lambda pipe: pipe.set("autopipe:held", 1)))
        # Queued while the first round trip is in flight: the next one, same connection.
        await asyncio.sleep(0)
        second = await autopipe.run(lambda pipe: pipe.get("autopipe:held"))
        assert (await first, second) == ([True], [b"1"])
        assert await redis.get("autopipe:held") == b"1"
    finally:
        await redis.aclose()
