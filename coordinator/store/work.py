"""Strategy work: shared Redis Streams with one consumer group.

Any worker's coordinator reads work; an entry stays pending until its report is
in the scan's mailbox. A running task's idle time is refreshed by its consumer,
so only a dead consumer's tasks age past the reclaim threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from config.settings import Settings
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import msgpack_encoder, work_item_decoder
from coordinator.store.records import WorkItem
from coordinator.store.scripts import queue_call
from coordinator.store.scripts.work import (
    AckUnlessSuperseded,
    EnqueueAndTakeWork,
    EnqueueWork,
    PruneConsumers,
    StreamEntry,
    acks_of,
)

# XCLAIM idle time given to tasks handed back on shutdown, so the next
# reclaim pass of any worker takes them at once.
HANDBACK_IDLE_MS = 10**12


@dataclass(frozen=True, slots=True)
class Task:
    bucket: int
    entry_id: str
    item: WorkItem | None  # None when the entry no longer decodes
    delivery: int


class WorkQueue:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        autopipe: AutoPipeline | None = None,
    ) -> None:
        self._redis = redis
        self._autopipe = autopipe or AutoPipeline(redis)
        self._settings = settings
        self.consumer = settings.worker_id

    def buckets(self) -> range:
        return range(self._settings.index_buckets)

    def enqueue_in(
        self, pipe: Pipeline, items: Sequence[WorkItem], take: int = 0
    ) -> list[EnqueueWork | EnqueueAndTakeWork]:
        """Queue the items' addition: one script call per bucket they fall in; with
        ``take``, items of one scan (one bucket) whose call also takes up to that
        many tasks for this consumer (see enqueue_and_take_work.lua and taken()).
        The calls queued, in order, to read their replies with."""
        by_bucket: dict[int, list[bytes]] = {}
        for item in items:
            bucket = keys.bucket_of(item.scan_id, self._settings.index_buckets)
            by_bucket.setdefault(bucket, []).append(msgpack_encoder.encode(item))
        calls: list[EnqueueWork | EnqueueAndTakeWork] = [
            EnqueueAndTakeWork(bucket=bucket, consumer=self.consumer, count=take, items=encoded)
            if take > 0
            else EnqueueWork(bucket=bucket, items=encoded)
            for bucket, encoded in by_bucket.items()
        ]
        for call in calls:
            queue_call(pipe, call)
        return calls

    def taken(self, bucket: int, entries: Sequence[StreamEntry]) -> list[Task]:
        """The tasks an enqueue-and-take call took."""
        return [Task(bucket, entry.entry_id, decode_item(entry.fields), 1) for entry in entries]

    async def ensure_groups(self) -> None:
        for bucket in self.buckets():
            try:
                await self._redis.xgroup_create(
                    keys.work_stream(bucket), keys.WORK_GROUP, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def prune_consumers(self) -> int:
        """Forget dead processes' consumers (every process that ever read work
        would otherwise stay in the group); returns how many went."""
        removed = 0
        for bucket in self.buckets():
            removed += await self._autopipe.call(
                PruneConsumers(
                    bucket=bucket,
                    dead_idle_ms=keys.dead_consumer_idle_ms(self._settings),
                    own_consumer=self.consumer,
                )
            )
        return removed

    async def take(
        self, bucket: int, count: int, block_ms: int, client: Redis | None = None
    ) -> list[Task]:
        """Up to ``count`` new tasks of the bucket, waiting up to ``block_ms`` for one;
        ``client``: the caller's own (see coordinator.store.redis_client.dedicated)."""
        reply = await (client or self._redis).xreadgroup(
            keys.WORK_GROUP,
            self.consumer,
            {keys.work_stream(bucket): ">"},
            count=count,
            block=block_ms,
        )
        tasks = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                tasks.append(Task(bucket, entry_id.decode(), decode_item(fields), 1))
        return tasks

    async def reclaim(self, bucket: int, count: int) -> list[Task]:
        """Take over tasks whose consumer stopped refreshing them."""
        stream = keys.work_stream(bucket)
        reply = await self._redis.xautoclaim(
            stream,
            keys.WORK_GROUP,
            self.consumer,
            min_idle_time=self._settings.work_reclaim_idle_ms,
            start_id="0-0",
            count=count,
        )
        entries = [entry for entry in reply[1] if entry and entry[1] is not None]
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _fields in entries:
                pipe.xpending_range(stream, keys.WORK_GROUP, min=entry_id, max=entry_id, count=1)
            pending = await pipe.execute()
        tasks = []
        for (entry_id, fields), info in zip(entries, pending, strict=True):
            delivery = int(info[0]["times_delivered"]) if info else 1
            tasks.append(Task(bucket, entry_id.decode(), decode_item(fields), delivery))
        return tasks

    async def acks_unless_superseded(self, tasks: Sequence[Task]) -> list[bool]:
        """Acknowledge tasks of one stream whose reports are in; False for each (left
        pending) that was delivered again (reclaimed) since this delivery. Those of
        concurrent callers on one stream go together, in one script call."""
        return await self._autopipe.run_grouped_all(
            queue_acks,
            split_acks,
            tasks[0].bucket,
            [(task.entry_id, task.delivery) for task in tasks],
        )

    async def ack(self, tasks: Sequence[Task]) -> None:
        """Acknowledge and drop tasks not worth running (or no longer readable)."""
        by_stream: dict[str, list[str]] = {}
        for task in tasks:
            by_stream.setdefault(keys.work_stream(task.bucket), []).append(task.entry_id)

        def queue(pipe: Pipeline) -> None:
            for stream, entry_ids in by_stream.items():
                pipe.xack(stream, keys.WORK_GROUP, *entry_ids)
                pipe.xdel(stream, *entry_ids)

        await self._autopipe.run(queue)

    async def refresh(self, tasks: Sequence[Task], idle_ms: int = 0) -> None:
        """Reset (or, on hand-back, age) the idle time of tasks this consumer holds."""
        by_bucket: dict[int, list[str]] = {}
        for task in tasks:
            by_bucket.setdefault(task.bucket, []).append(task.entry_id)
        if not by_bucket:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for bucket, ids in by_bucket.items():
                pipe.xclaim(
                    keys.work_stream(bucket),
                    keys.WORK_GROUP,
                    self.consumer,
                    0,
                    ids,
                    idle=idle_ms,
                    justid=True,
                )
            await pipe.execute()

    async def hand_back(self, tasks: Sequence[Task]) -> None:
        await self.refresh(tasks, idle_ms=HANDBACK_IDLE_MS)


def by_scan(tasks: Sequence[Task]) -> list[list[Task]]:
    """Tasks taken together, grouped by scan, in the order taken; a task whose entry
    no longer decodes stands alone."""
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        key = task.item.scan_id if task.item is not None else task.entry_id
        groups.setdefault(key, []).append(task)
    return list(groups.values())


def queue_acks(pipe: Pipeline, bucket: int, deliveries: Sequence[tuple[str, int]]) -> None:
    queue_call(pipe, AckUnlessSuperseded(bucket, deliveries))


def split_acks(raw: Any, count: int) -> list[bool]:
    """A grouped acknowledgement's reply: whether each task was acknowledged."""
    return acks_of(raw)


def decode_item(fields: dict[bytes, bytes]) -> WorkItem | None:
    try:
        return work_item_decoder.decode(fields[b"w"])
    except (KeyError, ValueError):
        return None
