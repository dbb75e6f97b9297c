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

from coordinator.errors import GenerationLost
from coordinator.store import keys

log = structlog.get_logger(__name__)
# Markers written by the recovery command carry this prefix. A changed marker
# without it means Redis was replaced by another database (a restarted worker
# made a fresh one on the empty Redis): that is data loss, never a recovery.
RECOVERY_MARKER_PREFIX = "recovered-"
RECOVER_ACTION = "failing closed; run `python -m coordinator.recover`"


class GenerationGuard:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.expected: str | None = None
        self.lost = False

    async def establish(self) -> str | None:
        """Adopt the current marker, creating the first one only on a new database.

        No marker while another worker recorded the loss, or while other workers
        are registered (they keep heartbeating while they fail closed), means
        Redis lost its data: start failed closed too.
        """
        found = await self._redis.get(keys.GENERATION_KEY)
        if found is None and not await self.data_was_lost():
            await self._redis.set(keys.GENERATION_KEY, secrets.token_hex(8), nx=True)
            found = await self._redis.get(keys.GENERATION_KEY)
        if found is None:
            log.error("redis_generation_lost", expected=None, action=RECOVER_ACTION)
            self.expected, self.lost = None, True
            return None
        self.expected, self.lost = found.decode(), False
        return self.expected

    async def data_was_lost(self) -> bool:
        if await self._redis.exists(keys.GENERATION_LOST_KEY):
            return True
        return int(await self._redis.zcard(keys.workers_index())) > 0

    async def check(self) -> None:
        """Compare the marker in Redis with the one this worker runs on."""
        await self.judge(await self._redis.get(keys.GENERATION_KEY))

    async def judge(self, raw: bytes | None) -> None:
        """Judge a marker read by the caller (often pipelined with its own commands)."""
        found = raw.decode() if raw is not None else None
        if found == self.expected:
            return
        if found is None or not found.startswith(RECOVERY_MARKER_PREFIX):
            if found is None:
                await self._redis.set(keys.GENERATION_LOST_KEY, self.expected or "", nx=True)
            if not self.lost:
                log.error(
                    "redis_generation_lost",
                    expected=self.expected,
                    found=found,
                    action=RECOVER_ACTION,
                )
            self.lost = True
            return
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
    marker = f"{RECOVERY_MARKER_PREFIX}{secrets.token_hex(8)}"
    await redis.set(keys.GENERATION_KEY, marker)
    return marker
