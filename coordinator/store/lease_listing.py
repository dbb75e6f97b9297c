"""The admin view of live scans, served from the lease index (never SCAN/KEYS).

Pages are ordered by scan id; the cursor is the last id of the previous page,
so a page is stable while scans come and go.
"""

from __future__ import annotations

import bisect
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from config.settings import Settings
from coordinator.process.clock import MS_PER_S, now_ms
from coordinator.store import keys
from coordinator.store.codec import snapshot_decoder
from coordinator.store.records import Progress

# Scans whose details are fetched per round trip while filling a page.
FETCH_BATCH = 200


class LeaseEntry(msgspec.Struct):
    scan_id: str
    user_id: str
    status: str
    worker_id: str | None
    pid: int | None
    epoch: int | None
    lease_expires_in_ms: int | None
    progress: Progress
    age_s: float


class LeaseFilter(msgspec.Struct, frozen=True):
    user: str | None = None
    worker: str | None = None
    status: str | None = None

    def admits(self, entry: LeaseEntry) -> bool:
        return (
            (self.user is None or entry.user_id == self.user)
            and (self.worker is None or entry.worker_id == self.worker)
            and (self.status is None or entry.status == self.status)
        )


class LeasePage(msgspec.Struct):
    leases: list[LeaseEntry]
    count: int
    live_scans: int
    next_cursor: str | None


async def live_scan_ids(redis: Redis, settings: Settings) -> list[str]:
    async with redis.pipeline(transaction=False) as pipe:
        for bucket in range(settings.index_buckets):
            pipe.zrange(keys.lease_index(bucket), 0, -1)
        buckets = await pipe.execute()
    return sorted(member.decode() for members in buckets for member in members)


async def lease_page(
    redis: Redis, settings: Settings, *, after: str | None, limit: int, only: LeaseFilter
) -> LeasePage:
    ids = await live_scan_ids(redis, settings)
    position = bisect.bisect_right(ids, after) if after else 0
    entries: list[LeaseEntry] = []
    while position < len(ids) and len(entries) < limit:
        batch = ids[position : position + FETCH_BATCH]
        for entry in await lease_entries(redis, batch):
            position += 1
            if entry is not None and only.admits(entry):
                entries.append(entry)
                if len(entries) == limit:
                    break
    more = position < len(ids)
    return LeasePage(entries, len(entries), len(ids), ids[position - 1] if more else None)


async def lease_entries(redis: Redis, scan_ids: list[str]) -> list[LeaseEntry | None]:
    async with redis.pipeline(transaction=False) as pipe:
        for scan_id in scan_ids:
            pipe.hget(keys.scan(scan_id), "snap")
            pipe.hmget(keys.lease(scan_id), ["worker", "pid", "epoch"])
            pipe.pttl(keys.lease(scan_id))
        replies = await pipe.execute()
    return [
        entry_of(scan_id, *replies[3 * index : 3 * index + 3])
        for index, scan_id in enumerate(scan_ids)
    ]


def entry_of(scan_id: str, body: bytes | None, lease: list, ttl_ms: int) -> LeaseEntry | None:  # type: ignore[type-arg]
    if body is None:
        return None
    snapshot = snapshot_decoder.decode(body)
    worker, pid, epoch = lease
    return LeaseEntry(
        scan_id=scan_id,
        user_id=snapshot.user_id,
        status=snapshot.status.value,
        worker_id=worker.decode() if worker else None,
        pid=int(pid) if pid else None,
        epoch=int(epoch) if epoch else None,
        lease_expires_in_ms=int(ttl_ms) if ttl_ms is not None and int(ttl_ms) >= 0 else None,
        progress=snapshot.progress,
        age_s=round(age_ms(snapshot.created_at) / MS_PER_S, 3),
    )


def age_ms(created_at: str) -> int:
    return now_ms() - int(datetime.fromisoformat(created_at).timestamp() * MS_PER_S)
