"""A report for a scan this process owns wakes its actor directly; only an owner
elsewhere gets a doorbell through Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from coordinator.actor.mailbox import Entry, LocalOwner, Mailbox
from coordinator.store import keys
from coordinator.store.records import Cancel

SCAN_ID = "localwake"
HERE = "here:1"


def nothing_delivered(scan_id: str, previous: str, entries: list[Entry]) -> None:
    raise AssertionError("a single append wakes the owner; it delivers nothing")


def nothing_owned(scan_id: str) -> None:
    return None


async def publishes(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


@pytest.mark.parametrize(("owner", "doorbells"), [(HERE, 0), ("elsewhere:2", 1)])
async def test_doorbell_only_for_an_owner_elsewhere(
    redis: Redis, owner: str, doorbells: int
) -> None:
    await redis.xadd(keys.mailbox(SCAN_ID), {"m": b""})
    await redis.hset(keys.scan(SCAN_ID), "status", "running")
    await redis.hset(keys.lease(SCAN_ID), "worker", owner)
    woken: list[str] = []
    mailbox = Mailbox(
        redis,
        local_owner=LocalOwner(HERE, woken.append, nothing_delivered, nothing_owned),
    )
    before = await publishes(redis)
    assert await mailbox.append(SCAN_ID, Cancel(by="alice", at_ms=1)) is not None
    assert await publishes(redis) - before == doorbells
    assert woken == [SCAN_ID]  # waking a scan this process does not own is a no-op
