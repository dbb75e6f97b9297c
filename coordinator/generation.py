"""The generation marker: how a worker notices Redis came back empty.

A worker remembers the marker it started with. If the marker disappears (Redis
restarted without its data) the worker fails closed: readiness false and 503s,
never a silent restart of epochs on an empty database. It resumes when the
marker is back, which only the recovery command writes.
"""

from __future__ import annotations

import secrets

import structlog
from redis.asyncio import Redis

from coordinator import keys
from coordinator.errors import GenerationLost

log = structlog.get_logger(__name__)


class GenerationGuard:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.expected: str | None = None
        self.lost = False

    async def establish(self) -> str:
        """Adopt the current marker, creating the first one on a new database."""
        await self._redis.set(keys.GENERATION_KEY, secrets.token_hex(8), nx=True)
        found = await self._redis.get(keys.GENERATION_KEY)
        self.expected = found.decode()
        self.lost = False
        return self.expected

    async def check(self) -> None:
        """Compare the marker in Redis with the one this worker runs on."""
        raw = await self._redis.get(keys.GENERATION_KEY)
        found = raw.decode() if raw is not None else None
        if found is None:
            if not self.lost:
                log.error(
                    "redis_generation_lost",
                    expected=self.expected,
                    action="failing closed; run `python -m coordinator.recover`",
                )
            self.lost = True
        elif found != self.expected:
            log.warning("redis_generation_recovered", previous=self.expected, current=found)
            self.expected = found
            self.lost = False

    def ensure_ok(self) -> None:
        if self.lost:
            raise GenerationLost(self.expected, None)

    async def verify(self) -> None:
        """Check now (used before answering 'not found') and raise if lost."""
        await self.check()
        self.ensure_ok()


async def write_new_generation(redis: Redis) -> str:
    """The operator's recovery step: accept the data loss and start a new generation."""
    marker = secrets.token_hex(8)
    await redis.set(keys.GENERATION_KEY, marker)
    return marker
