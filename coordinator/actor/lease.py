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
from coordinator.store.scripts import Scripts, queue_batches, queue_script, slot_batches

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
        scripts: Scripts,
        settings: Settings,
        renewal_redis: Redis | None = None,
        autopipe: AutoPipeline | None = None,
    ) -> None:
        self._redis = redis
        # Acquisitions share round trips with the rest of the process's commands.
        self._autopipe = autopipe or AutoPipeline(redis)
        self._scripts = scripts
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
        token = secrets.token_hex(8)
        sent_at = time.monotonic()
        reply = await self._autopipe.run_script(
            self._scripts.acquire_lease, acquire_keys(scan_id), self.acquire_args(token)
        )
        acquired = self.acquired_of(scan_id, token, sent_at, reply)
        if acquired is None:
            reason = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
            if reason in ("terminal", "missing"):
                await self._redis.zrem(keys.lease_index(self.bucket(scan_id)), scan_id)
            return None
        await self._index(scan_id, now_ms() + self._settings.lease_ttl_ms)
        return acquired

    def queue_acquire(
        self, pipe: Pipeline, scan_id: str
    ) -> Callable[[Sequence[Any]], Acquired | None]:
        """acquire() as commands queued on ``pipe``: the lease, then its index entry.
        The function returned makes their replies what acquire() returns. For a scan
        being created in the same round trip (see Scans.write_new_scan): it is only
        refused if that create was, and then the sweepers drop its index entry."""
        token = secrets.token_hex(8)
        sent_at = time.monotonic()
        queue_script(
            pipe, self._scripts.acquire_lease, acquire_keys(scan_id), self.acquire_args(token)
        )
        index = keys.lease_index(self.bucket(scan_id))
        pipe.zadd(index, {scan_id: now_ms() + self._settings.lease_ttl_ms}, xx=True)

        def acquired_from(replies: Sequence[Any]) -> Acquired | None:
            reply, _indexed = replies
            return self.acquired_of(scan_id, token, sent_at, reply)

        return acquired_from

    def acquire_args(self, token: str) -> list[object]:
        s = self._settings
        return [token, s.worker_id, s.pid, s.lease_ttl_ms, now_ms(), now_iso()]

    def acquired_of(
        self, scan_id: str, token: str, sent_at: float, reply: Sequence[Any]
    ) -> Acquired | None:
        """The acquire script's reply as a lease held from ``sent_at``, or None if refused."""
        if int(reply[0]) != 1:
            return None
        epoch = int(reply[1])
        if epoch > 1:
            TAKEOVERS.inc()
        lease = Lease(scan_id, token, epoch, self.deadline_from(sent_at))
        return Acquired(lease, reply[2], reply[3], int(reply[4]), reply[5])

    async def renew_all(self, leases: Sequence[Lease]) -> list[Lease]:
        """Renew every lease in one round trip (a script call per batch of leases
        sharing a slot, and one index update per bucket); return the ones lost."""
        if not leases:
            return []
        s = self._settings
        sent_at = time.monotonic()
        expiry = now_ms() + s.lease_ttl_ms
        batches = slot_batches(self._renewal_redis, leases, lease_key)
        by_bucket: dict[int, dict[str, int]] = {}
        for lease in leases:
            by_bucket.setdefault(self.bucket(lease.scan_id), {})[lease.scan_id] = expiry
        async with self._renewal_redis.pipeline(transaction=False) as pipe:
            queue_batches(
                pipe,
                self._scripts.renew_leases,
                batches,
                lease_key,
                lambda batch: [s.lease_ttl_ms, *(lease.token for lease in batch)],
            )
            for bucket, entries in by_bucket.items():
                pipe.zadd(keys.lease_index(bucket), entries, xx=True)
            replies = await pipe.execute()
        renewed_flags = [flag for reply in replies[: len(batches)] for flag in reply]
        ordered = [lease for batch in batches for lease in batch]
        lost = []
        for lease, renewed in zip(ordered, renewed_flags, strict=True):
            if int(renewed) == 1:
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
        released = await self._scripts.release_lease(
            keys=[
                keys.lease(lease.scan_id),
                keys.scan(lease.scan_id),
                keys.lifecycle(lease.scan_id),
            ],
            args=[lease.token, now_iso(), self._settings.worker_id, lease.epoch],
        )
        if int(released) == 1:
            await self._index(lease.scan_id, 0)
        return int(released) == 1

    async def _index(self, scan_id: str, expiry_ms: int) -> None:
        index = keys.lease_index(self.bucket(scan_id))
        await self._autopipe.run(lambda pipe: pipe.zadd(index, {scan_id: expiry_ms}, xx=True))

    async def mark_claimable(self, scan_id: str) -> None:
        """A hint for the sweepers (acquire still refuses a held lease); best effort."""
        with contextlib.suppress(RedisError):
            await self._index(scan_id, 0)

    def bucket(self, scan_id: str) -> int:
        return keys.bucket_of(scan_id, self._settings.index_buckets)


def acquire_keys(scan_id: str) -> list[str]:
    return [keys.scan(scan_id), keys.lease(scan_id), keys.lifecycle(scan_id), keys.results(scan_id)]


def lease_key(lease: Lease) -> str:
    return keys.lease(lease.scan_id)
