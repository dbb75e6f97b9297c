"""AutoPipeline: concurrent callers share round trips, and each gets its own replies
and its own errors, on a single Redis and on Cluster."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from coordinator import keys
from coordinator.autopipe import AutoPipeline
from coordinator.redis_client import connect
from coordinator.scripts import Scripts, queue_script
from tests.redis_cluster import LocalCluster

CALLERS = 20


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
    scripts = Scripts(redis)
    autopipe = AutoPipeline(redis)
    try:
        await redis.xadd(keys.mailbox("autopipe"), {"m": b"seed"})
        await redis.hset(keys.scan("autopipe"), "status", "running")

        def append(pipe: Pipeline) -> None:
            queue_script(
                pipe,
                scripts.append_mailbox,
                [keys.mailbox("autopipe"), keys.lease("autopipe"), keys.scan("autopipe")],
                [b"message", keys.DOORBELL_PREFIX, "autopipe", ""],
            )

        appended, fields = await asyncio.gather(
            autopipe.run(append),
            autopipe.run(lambda pipe: pipe.hmget(keys.scan("autopipe"), ["status", "epoch"])),
        )

        assert len(appended) == 1 and b"-" in appended[0]
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
