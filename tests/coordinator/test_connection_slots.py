"""Per-user connection slots in Redis: taken up to the limit, given back on release,
kept alive by their worker's refresh, and lapsing when their worker stops refreshing
(it died), so a dead process never holds a user's slots for good."""

from __future__ import annotations

import asyncio

import msgspec

from config.settings import Settings
from coordinator.service.connection_slots import ConnectionKind, ConnectionSlots
from coordinator.service.periodic import run_periodic
from coordinator.store import keys
from tests.support import eventually

WS = ConnectionKind.WEBSOCKET
# A slot lapses 5 heartbeats after its last refresh: 0.5 s here.
HEARTBEAT_MS = 100


def worker(redis, settings: Settings, worker_id: str, limit: int = 2) -> ConnectionSlots:  # type: ignore[no-untyped-def]
    return ConnectionSlots(
        redis,
        msgspec.structs.replace(
            settings,
            worker_id=worker_id,
            ws_per_user_max=limit,
            worker_heartbeat_interval_ms=HEARTBEAT_MS,
        ),
    )


async def test_slots_up_to_the_limit_across_workers_then_released(redis, settings) -> None:  # type: ignore[no-untyped-def]
    a, b = worker(redis, settings, "h:1"), worker(redis, settings, "h:2")
    first = await a.take(WS, "alice")
    second = await b.take(WS, "alice")
    assert first and second
    assert await a.take(WS, "alice") is None and await b.take(WS, "alice") is None
    assert await a.take(WS, "bob") is not None  # another user's count
    assert await a.take(ConnectionKind.WAIT, "alice") is not None  # another kind's count
    members = await redis.zrange(keys.user_connections("alice", WS.value), 0, -1)
    assert sorted(m.decode().split("#")[0] for m in members) == ["h:1", "h:2"]
    await a.release(first)
    assert await b.take(WS, "alice") is not None
    assert a.held == 2  # bob's websocket and alice's wait


async def test_a_refreshed_slot_outlives_its_ttl_and_a_dead_workers_slot_lapses(
    redis, settings
) -> None:  # type: ignore[no-untyped-def]
    holder, other = worker(redis, settings, "h:1", limit=1), worker(redis, settings, "h:2", limit=1)
    assert await holder.take(WS, "alice") is not None
    stop = asyncio.Event()
    refreshing = asyncio.ensure_future(
        run_periodic("refresh", HEARTBEAT_MS / 1000, holder.refresh, stop)
    )
    try:
        # Three TTLs with the holder alive: the slot stays taken all along.
        for _ in range(3 * keys.WORKER_MISSED_BEATS):
            assert await other.take(WS, "alice") is None
            await asyncio.sleep(HEARTBEAT_MS / 1000)
    finally:
        stop.set()
        await refreshing
    # The holder "dies": nothing releases the slot, nothing refreshes it.
    assert await eventually(lambda: other.take(WS, "alice"), timeout_s=5, what="the lapse")


async def test_a_refresh_does_not_bring_back_a_released_slot(redis, settings) -> None:  # type: ignore[no-untyped-def]
    slots = worker(redis, settings, "h:1")
    kept, released = await slots.take(WS, "alice"), await slots.take(WS, "alice")
    assert kept and released
    await redis.zrem(released.key, released.member)  # released by Redis's view only
    await slots.refresh()
    assert await redis.zrange(kept.key, 0, -1) == [kept.member.encode()]
    ttl_ms = await redis.pttl(kept.key)
    assert (
        0
        < ttl_ms
        <= keys.connection_slot_ttl_ms(
            msgspec.structs.replace(settings, worker_heartbeat_interval_ms=HEARTBEAT_MS)
        )
    )


async def test_a_dead_workers_slot_lapses_beside_a_live_one(redis, settings) -> None:  # type: ignore[no-untyped-def]
    """The live worker's refreshes keep the user's key alive; the dead one's member in
    it still stops counting once its time is up."""
    live, dead = worker(redis, settings, "h:1"), worker(redis, settings, "h:2")
    assert await live.take(WS, "alice") is not None
    assert await dead.take(WS, "alice") is not None
    stop = asyncio.Event()
    refreshing = asyncio.ensure_future(
        run_periodic("refresh", HEARTBEAT_MS / 1000, live.refresh, stop)
    )
    try:
        assert await live.take(WS, "alice") is None  # both count while the dead one's lasts
        assert await eventually(lambda: live.take(WS, "alice"), timeout_s=5, what="the lapse")
    finally:
        stop.set()
        await refreshing
