"""The admin view of live scans, served from the lease index (never SCAN/KEYS)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from redis.asyncio import Redis

from config.settings import Settings
from coordinator import keys
from coordinator.clock import now_ms
from coordinator.codec import snapshot_decoder
from coordinator.records import Progress

MS_PER_S = 1000


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


async def active_leases(redis: Redis, settings: Settings, limit: int) -> list[LeaseEntry]:
    """Live scans from every bucket of the lease index, oldest lease first."""
    scan_ids: list[str] = []
    for bucket in range(settings.index_buckets):
        members = await redis.zrange(keys.lease_index(bucket), 0, limit - 1)
        scan_ids.extend(member.decode() for member in members)
    scan_ids = scan_ids[:limit]
    async with redis.pipeline(transaction=False) as pipe:
        for scan_id in scan_ids:
            pipe.hget(keys.scan(scan_id), "snap")
            pipe.hmget(keys.lease(scan_id), ["worker", "pid", "epoch"])
            pipe.pttl(keys.lease(scan_id))
        replies = await pipe.execute()
    entries = []
    for index, scan_id in enumerate(scan_ids):
        body, (worker, pid, epoch), ttl_ms = replies[3 * index : 3 * index + 3]
        if body is None:
            continue
        snapshot = snapshot_decoder.decode(body)
        entries.append(
            LeaseEntry(
                scan_id=scan_id,
                user_id=snapshot.user_id,
                status=snapshot.status.value,
                worker_id=worker.decode() if worker else None,
                pid=int(pid) if pid else None,
                epoch=int(epoch) if epoch else None,
                lease_expires_in_ms=int(ttl_ms)
                if ttl_ms is not None and int(ttl_ms) >= 0
                else None,
                progress=snapshot.progress,
                age_s=round(age_ms(snapshot.created_at) / MS_PER_S, 3),
            )
        )
    return entries


def age_ms(created_at: str) -> int:
    return now_ms() - int(datetime.fromisoformat(created_at).timestamp() * MS_PER_S)
