"""The Lua scripts of :mod:`coordinator.keys`, registered once per Redis client.

redis-py's Script objects run EVALSHA and reload on NOSCRIPT, so scripts come
back by themselves after a Redis restart. In a pipeline the script's text goes
with EVAL instead (see queue_script).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

from coordinator import keys

T = TypeVar("T")


class Scripts:
    def __init__(self, redis: Redis) -> None:
        self.create_scan: AsyncScript = redis.register_script(keys.CREATE_SCAN)
        self.claim_user_scan: AsyncScript = redis.register_script(keys.CLAIM_USER_SCAN)
        self.clear_user_active: AsyncScript = redis.register_script(keys.CLEAR_USER_ACTIVE)
        self.take_start_slot: AsyncScript = redis.register_script(keys.TAKE_START_SLOT)
        self.prune_consumers: AsyncScript = redis.register_script(keys.PRUNE_CONSUMERS)
        self.acquire_lease: AsyncScript = redis.register_script(keys.ACQUIRE_LEASE)
        self.renew_leases: AsyncScript = redis.register_script(keys.RENEW_LEASES)
        self.recheck_mailboxes: AsyncScript = redis.register_script(keys.RECHECK_MAILBOXES)
        self.release_lease: AsyncScript = redis.register_script(keys.RELEASE_LEASE)
        self.publish_snapshot: AsyncScript = redis.register_script(keys.PUBLISH_SNAPSHOT)
        self.append_mailbox: AsyncScript = redis.register_script(keys.APPEND_MAILBOX)
        self.enqueue_work: AsyncScript = redis.register_script(keys.ENQUEUE_WORK)
        self.enqueue_and_take_work: AsyncScript = redis.register_script(keys.ENQUEUE_AND_TAKE_WORK)
        self.ack_unless_superseded: AsyncScript = redis.register_script(keys.ACK_UNLESS_SUPERSEDED)
        self.refresh_evidence_lock: AsyncScript = redis.register_script(keys.REFRESH_EVIDENCE_LOCK)
        self.store_evidence: AsyncScript = redis.register_script(keys.STORE_EVIDENCE)
        self.release_evidence_lock: AsyncScript = redis.register_script(keys.RELEASE_EVIDENCE_LOCK)


def slot_batches(redis: Redis, items: Sequence[T], key_of: Callable[[T], str]) -> list[list[T]]:
    """Items grouped so one script call may take all their keys: by slot on a
    Cluster (a script's keys must share one), then at most SCRIPT_BATCH each."""
    groups: dict[int, list[T]] = {}
    if isinstance(redis, RedisCluster):
        for item in items:
            groups.setdefault(redis.keyslot(key_of(item)), []).append(item)
    else:
        groups[0] = list(items)
    return [
        group[start : start + keys.SCRIPT_BATCH]
        for group in groups.values()
        for start in range(0, len(group), keys.SCRIPT_BATCH)
    ]


def queue_batches(
    pipe: Pipeline,
    script: AsyncScript,
    batches: Sequence[Sequence[T]],
    key_of: Callable[[T], str],
    args_of: Callable[[Sequence[T]], Sequence[object]],
) -> None:
    """Queue one call of ``script`` per batch (see slot_batches): the keys of its items,
    and ``args_of(batch)``."""
    for batch in batches:
        queue_script(pipe, script, [key_of(item) for item in batch], args_of(batch))


def queue_script(
    pipe: Pipeline, script: AsyncScript, keys: Sequence[str], args: Sequence[object]
) -> None:
    """Queue a script call on a pipeline, as EVAL with the script's text.

    redis-py's EVALSHA in a pipeline first asks SCRIPT EXISTS, a round trip of its
    own before every pipeline (and a Cluster pipeline refuses EVALSHA outright).
    Redis caches an EVAL'd script by its digest, so the text costs only bytes on
    the wire, and a Redis that restarted without its script cache needs no reload.
    """
    pipe.eval(script.script, len(keys), *keys, *args)
