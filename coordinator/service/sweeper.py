"""Sweeper: finds scans whose lease lapsed (or that no one claimed yet) and adopts them.

The lease index is a hint, scored by lease expiry; the acquire script is the
truth (it refuses a held lease and never re-runs a finished scan).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from config.settings import Settings
from coordinator.process.clock import now_ms
from coordinator.store import keys

# Candidates looked at per bucket per sweep; the next sweep takes the rest.
SWEEP_BATCH = 100


class Sweeper:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        adopt: Callable[[str], Awaitable[bool]],
        capacity: Callable[[], int],
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._adopt = adopt
        self._capacity = capacity

    async def sweep(self) -> int:
        """One pass over every bucket; returns how many scans were adopted."""
        adopted = 0
        for bucket in range(self._settings.index_buckets):
            room = min(SWEEP_BATCH, self._capacity())
            if room <= 0:
                break
            lapsed = await self._redis.zrangebyscore(
                keys.lease_index(bucket), "-inf", now_ms(), start=0, num=room
            )
            for raw in lapsed:
                if await self._adopt(raw.decode()):
                    adopted += 1
        return adopted
