"""Failed authentications (401s) per client address, so a token cannot be guessed at
line rate.

Each 401 is counted in Redis, in a fixed window per address shared by every worker.
Past the limit the address is remembered here, in this process, until its window
ends, and every request from it is refused before its token is looked at: a valid
token costs no Redis command at all, and a blocked address none either. A worker
that has not seen the address fail yet learns of the block at its next failure, so
at most one more guess per worker gets an answer per window.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from redis.asyncio import Redis

from config.settings import Settings
from coordinator.process.clock import MS_PER_S
from coordinator.store.scripts import run_call
from coordinator.store.scripts.edge import CountAuthFailure

# Blocked addresses remembered per process; the oldest is forgotten first (it is
# blocked again at its next failure).
BLOCKED_ADDRESSES_MAX = 10_000


class AuthFailures:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._limit = settings.auth_failures_per_window
        self._window_ms = settings.auth_failure_window_s * MS_PER_S
        self._redis = redis
        self._blocked: OrderedDict[str, float] = OrderedDict()  # address -> monotonic end

    @property
    def any_blocked(self) -> bool:
        return bool(self._blocked)

    def blocked_for_s(self, address: str) -> float | None:
        """Seconds left of the address's block, if this process knows of one."""
        until = self._blocked.get(address)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            del self._blocked[address]
            return None
        return left

    async def record(self, address: str) -> float | None:
        """Count one failure; the seconds the address is now blocked for, if it is."""
        counted = await run_call(
            self._redis, CountAuthFailure(address=address, window_ms=self._window_ms)
        )
        if counted.count <= self._limit:
            return None
        left_s = counted.window_left_ms / MS_PER_S
        self._blocked[address] = time.monotonic() + left_s
        self._blocked.move_to_end(address)
        if len(self._blocked) > BLOCKED_ADDRESSES_MAX:
            self._blocked.popitem(last=False)
        return left_s
