"""The shared evaluations in Redis: each one's stored result and its lock.

An evaluation is keyed by its tag (keys.evidence_tag: source, data version,
strategy, rule fingerprint); its result and its lock share the tag's slot. A
worker takes a lock with SET NX and a TTL, keeps it while it computes, and
stores the result and releases the lock in one script (see coordinator.service.
evidence for who computes what, and when).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from coordinator.store import keys
from coordinator.store.codec import evaluation_decoder, msgpack_encoder
from coordinator.store.scripts import run_call
from coordinator.store.scripts.evidence import (
    RefreshEvidenceLock,
    ReleaseEvidenceLock,
    StoreEvidence,
)
from strategies.evidence.records import Evaluation


class EvidenceStore:
    """One worker's access to the stored evaluations, its locks held by ``token``."""

    def __init__(self, redis: Redis, token: str) -> None:
        self._redis = redis
        self.token = token

    async def read(self, tags: Sequence[str]) -> list[Evaluation | None]:
        """The stored evaluations of ``tags`` (None where there is none), in one
        round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.get(keys.evidence_result(tag))
            replies = await pipe.execute()
        return [
            None if payload is None else evaluation_decoder.decode(payload) for payload in replies
        ]

    async def held(self, tags: Sequence[str]) -> list[bool]:
        """Whether someone holds the lock of each of ``tags``."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.exists(keys.evidence_lock(tag))
            replies = await pipe.execute()
        return [bool(held) for held in replies]

    async def lock(self, tags: Sequence[str], ttl_ms: int) -> list[bool]:
        """Take the locks of ``tags`` nobody holds (for ``ttl_ms``): whether each was
        taken."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.set(keys.evidence_lock(tag), self.token, nx=True, px=ttl_ms)
            replies = await pipe.execute()
        return [bool(taken) for taken in replies]

    async def refresh_locks(self, tags: Sequence[str], ttl_ms: int) -> None:
        """Extend the locks of ``tags`` this worker still holds by ``ttl_ms``."""
        for tag in tags:
            await run_call(
                self._redis, RefreshEvidenceLock(tag=tag, token=self.token, ttl_ms=ttl_ms)
            )

    async def store(self, tag: str, evaluation: Evaluation, retention_ms: int) -> Evaluation:
        """Store ``evaluation`` under ``tag`` (the first stored stays: they are the same
        computation) and release its lock; the evaluation as a reader decodes it."""
        payload = msgpack_encoder.encode(evaluation)
        await run_call(
            self._redis,
            StoreEvidence(tag=tag, token=self.token, evaluation=payload, retention_ms=retention_ms),
        )
        return evaluation_decoder.decode(payload)

    async def release(self, tags: Sequence[str]) -> None:
        """Release the locks of ``tags`` this worker still holds; a Redis that is away
        lets them lapse instead."""
        for tag in tags:
            with contextlib.suppress(RedisError):
                await run_call(self._redis, ReleaseEvidenceLock(tag=tag, token=self.token))
