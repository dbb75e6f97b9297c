"""Scan leases: an owner token plus a fencing epoch, renewed in batches.

A lease is held in Redis with a TTL; the owner also keeps a local deadline
(measured from when it *sent* the acquire/renew) and stops writing once that
passes, so a paused owner fences itself even before Redis notices.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.errors import LeaseLost
from coordinator.process.clock import now_iso, now_ms
from coordinator.process.metrics import TAKEOVERS
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.scripts import queue_call, run_batched
from coordinator.store.scripts.lease import (
    AcquireLease,
    Granted,
    Refused,
    ReleaseLease,
    RenewLeases,
)

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Lease:
    scan_id: str
    token: str
    epoch: int
    # time.monotonic() after which this process must not write as owner.
    local_deadline: float

    def lapsed(self) -> bool:
        """This owner's own clock says the lease may have lapsed."""
        return time.monotonic() >= self.local_deadline

    def check(self) -> None:
        """Raise LeaseLost if this owner's own clock says the lease may have lapsed."""
        if self.lapsed():
            raise LeaseLost(self.scan_id, self.epoch, "local lease deadline passed")


@dataclass(slots=True, frozen=True)
class Acquired:
    lease: Lease
    snapshot_json: bytes
    state_blob: bytes
    version: int
    results_json: bytes


class LeaseStore:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        renewal_redis: Redis | None = None,
        autopipe: AutoPipeline | None = None,
    ) -> None:
        self._redis = redis
        # Acquisitions share round trips with the rest of the process's commands.
        self._autopipe = autopipe or AutoPipeline(redis)
        self._settings = settings
        # Renewals on a connection of their own: under load, thousands of actors
        # and requests queue for the shared pool, and a renewal queued behind them
        # past the lease's deadline would fence scans that are doing fine.
        self._renewal_redis = renewal_redis or redis

    def deadline_from(self, sent_at: float) -> float:
        s = self._settings
        return sent_at + s.lease_ttl_s - s.lease_safety_margin_s

    async def acquire(self, scan_id: str) -> Acquired | None:
        """Take the scan's lease at the next epoch, or None if it is held or over."""
        call = self.acquire_call(scan_id)
        sent_at = time.monotonic()
        reply = await self._autopipe.call(call)
        if isinstance(reply, Refused):
            if reply.scan_is_over:
                await self._redis.zrem(keys.lease_index(self.bucket(scan_id)), scan_id)
            return None
        await self._index(scan_id, now_ms() + self._settings.lease_ttl_ms)
        return self.acquired_of(call, sent_at, reply)

    def queue_acquire(
        self, pipe: Pipeline, scan_id: str
    ) -> Callable[[Sequence[Any]], Acquired | None]:
        """acquire() as commands queued on ``pipe``: the lease, then its index entry.
        The function returned makes their replies what acquire() returns. For a scan
        being created in the same round trip (see Scans.write_new_scan): it is only
        refused if that create was, and then the sweepers drop its index entry."""
        call = self.acquire_call(scan_id)
        sent_at = time.monotonic()
        queue_call(pipe, call)
        index = keys.lease_index(self.bucket(scan_id))
        pipe.zadd(index, {scan_id: now_ms() + self._settings.lease_ttl_ms}, xx=True)

        def acquired_from(replies: Sequence[Any]) -> Acquired | None:
            raw, _indexed = replies
            reply = call.reply(raw)
            return None if isinstance(reply, Refused) else self.acquired_of(call, sent_at, reply)

        return acquired_from

    def acquire_call(self, scan_id: str) -> AcquireLease:
        s = self._settings
        return AcquireLease(
            scan_id=scan_id,
            token=secrets.token_hex(8),
            worker=s.worker_id,
            pid=s.pid,
            ttl_ms=s.lease_ttl_ms,
            now_ms=now_ms(),
            now_iso=now_iso(),
        )

    def acquired_of(self, call: AcquireLease, sent_at: float, granted: Granted) -> Acquired:
        """A granted acquisition as a lease held from ``sent_at``."""
        if granted.epoch > 1:
            TAKEOVERS.inc()
        lease = Lease(call.scan_id, call.token, granted.epoch, self.deadline_from(sent_at))
        return Acquired(
            lease,
            granted.snapshot_json,
            granted.state_blob,
            granted.version,
            granted.results_json,
        )

    async def renew_all(self, leases: Sequence[Lease]) -> list[Lease]:
        """Renew every lease in one round trip (a script call per batch of leases
        sharing a slot, and one index update per bucket); return the ones lost."""
        if not leases:
            return []
        s = self._settings
        sent_at = time.monotonic()
        expiry = now_ms() + s.lease_ttl_ms
        by_bucket: dict[int, dict[str, int]] = {}
        for lease in leases:
            by_bucket.setdefault(self.bucket(lease.scan_id), {})[lease.scan_id] = expiry

        def renewal(batch: Sequence[Lease]) -> RenewLeases:
            scan_ids = [lease.scan_id for lease in batch]
            return RenewLeases(s.lease_ttl_ms, scan_ids, [lease.token for lease in batch])

        def index_updates(pipe: Pipeline) -> None:
            for bucket, entries in by_bucket.items():
                pipe.zadd(keys.lease_index(bucket), entries, xx=True)

        renewals = await run_batched(
            self._renewal_redis, leases, lease_key, renewal, also=index_updates
        )
        lost = []
        for lease, renewed in renewals:
            if renewed:
                lease.local_deadline = self.deadline_from(sent_at)
            else:
                lost.append(lease)
        if lost:
            # The refused renewal above pushed their index entries forward: mark
            # them claimable now, so a lease expired early (a clock jump) is taken
            # over at once, not a whole TTL later. Acquire still refuses a held one.
            async with self._redis.pipeline(transaction=False) as pipe:
                for lease in lost:
                    pipe.zadd(
                        keys.lease_index(self.bucket(lease.scan_id)), {lease.scan_id: 0}, xx=True
                    )
                await pipe.execute()
        return lost

    async def release(self, lease: Lease) -> bool:
        """Give the lease up now and mark the scan claimable, for an instant takeover."""
        released = await self._autopipe.call(
            ReleaseLease(
                scan_id=lease.scan_id,
                token=lease.token,
                now_iso=now_iso(),
                worker=self._settings.worker_id,
                epoch=lease.epoch,
            )
        )
        if released:
            await self._index(lease.scan_id, 0)
        return released

    async def _index(self, scan_id: str, expiry_ms: int) -> None:
        index = keys.lease_index(self.bucket(scan_id))
        await self._autopipe.run(lambda pipe: pipe.zadd(index, {scan_id: expiry_ms}, xx=True))

    async def mark_claimable(self, scan_id: str) -> None:
        """A hint for the sweepers (acquire still refuses a held lease); best effort."""
        with contextlib.suppress(RedisError):
            await self._index(scan_id, 0)

    def bucket(self, scan_id: str) -> int:
        return keys.bucket_of(scan_id, self._settings.index_buckets)


def lease_key(lease: Lease) -> str:
    return keys.lease(lease.scan_id)
