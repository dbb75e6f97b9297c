"""An owner re-reads its mailbox when its doorbell's pub/sub connection comes
back, also when redis-py reconnects by itself: a bell rung while the connection
was away is lost, and the owner would otherwise wait for its mailbox poll."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from coordinator.store import keys
from coordinator.store.codec import msgpack_encoder
from coordinator.store.records import Cancel
from tests.coordinator.test_work import read_snapshot, terminal_snapshot
from tests.support import eventually, owned_scan

# The owner's own mailbox poll: only a wake on reconnect reacts well before it.
SLOW_POLL_MS = 60_000


async def scan_with_unrung_mail(redis: Redis, settings, coordinator_factory, scans_for):  # type: ignore[no-untyped-def]
    """An owner that has read its mailbox once, then mail that rings no bell, as if
    its bell came while the pub/sub connection was away."""
    slow = msgspec.structs.replace(settings, mailbox_poll_interval_ms=SLOW_POLL_MS)
    owner = await coordinator_factory(slow, run_strategies=False)
    scan_id = await owned_scan(owner, scans_for(slow, owner), ["sleep_2s"])

    async def running() -> bool:
        snapshot = await read_snapshot(redis, scan_id)
        return snapshot is not None and snapshot.status == "running"

    await eventually(running, what="the owner's first step")  # it has read its mailbox
    cancel = Cancel(by="alice", at_ms=1, reason="lost bell")
    await redis.xadd(keys.mailbox(scan_id), {"m": msgpack_encoder.encode(cancel)})
    return owner, scan_id


async def test_mail_whose_bell_was_lost_is_folded_after_the_reconnect(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    _owner, scan_id = await scan_with_unrung_mail(redis, settings, coordinator_factory, scans_for)
    assert await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1
    final = await terminal_snapshot(redis, scan_id)
    assert final.status == "cancelled"


async def test_mail_whose_bell_was_lost_is_found_by_the_batched_recheck(
    redis: Redis, settings, coordinator_factory, scans_for
) -> None:  # type: ignore[no-untyped-def]
    owner, scan_id = await scan_with_unrung_mail(redis, settings, coordinator_factory, scans_for)
    await owner.owned.recheck_mailboxes()  # what the periodic duty does, driven here
    final = await terminal_snapshot(redis, scan_id)
    assert final.status == "cancelled"
