"""The calls of the work-stream scripts: enqueue (and take), acknowledge, prune."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import ScriptCall


@dataclass(frozen=True, slots=True)
class StreamEntry:
    entry_id: str
    fields: dict[bytes, bytes]


@dataclass(frozen=True, slots=True)
class EnqueueWork(ScriptCall[int]):
    """Add encoded work items to a bucket's stream, in order; how many."""

    script = "enqueue_work"
    bucket: int
    items: Sequence[bytes]

    def keys(self) -> dict[str, str]:
        return {"stream_key": keys.work_stream(self.bucket)}

    def more_args(self) -> Sequence[object]:
        return self.items

    def reply(self, raw: Any) -> int:
        return int(raw)


@dataclass(frozen=True, slots=True)
class EnqueueAndTakeWork(ScriptCall[list[StreamEntry]]):
    """EnqueueWork, then take up to ``count`` undelivered entries for ``consumer``
    in the same script (see enqueue_and_take_work.lua): the entries taken."""

    script = "enqueue_and_take_work"
    bucket: int
    consumer: str
    count: int
    items: Sequence[bytes]

    def keys(self) -> dict[str, str]:
        return {"stream_key": keys.work_stream(self.bucket)}

    def args(self) -> dict[str, object]:
        return {"group": keys.WORK_GROUP, "consumer": self.consumer, "count": self.count}

    def more_args(self) -> Sequence[object]:
        return self.items

    def reply(self, raw: Any) -> list[StreamEntry]:
        # XREADGROUP's reply through a script: [[stream, [[id, [field, value, ...]], ...]]]
        taken = []
        for _stream, entries in raw or []:
            for entry_id, flat in entries:
                fields = dict(zip(flat[::2], flat[1::2], strict=True))
                taken.append(StreamEntry(entry_id.decode(), fields))
        return taken


@dataclass(frozen=True, slots=True)
class AckUnlessSuperseded(ScriptCall[list[bool]]):
    """Acknowledge and delete each (entry id, delivery) of a bucket's stream unless it
    was delivered again since: whether each was acknowledged, in order."""

    script = "ack_unless_superseded"
    bucket: int
    deliveries: Sequence[tuple[str, int]]

    def keys(self) -> dict[str, str]:
        return {"stream_key": keys.work_stream(self.bucket)}

    def args(self) -> dict[str, object]:
        return {"group": keys.WORK_GROUP}

    def more_args(self) -> Sequence[object]:
        return [part for delivery in self.deliveries for part in delivery]

    def reply(self, raw: Any) -> list[bool]:
        return acks_of(raw)


def acks_of(raw: Any) -> list[bool]:
    """An ack_unless_superseded reply: whether each delivery was acknowledged."""
    return [int(acked) == 1 for acked in raw]


@dataclass(frozen=True, slots=True)
class PruneConsumers(ScriptCall[int]):
    """Forget a stream's consumers that hold nothing and were silent ``dead_idle_ms``
    (never ``own_consumer``); how many."""

    script = "prune_consumers"
    bucket: int
    dead_idle_ms: int
    own_consumer: str

    def keys(self) -> dict[str, str]:
        return {"stream_key": keys.work_stream(self.bucket)}

    def args(self) -> dict[str, object]:
        return {
            "group": keys.WORK_GROUP,
            "dead_idle_ms": self.dead_idle_ms,
            "own_consumer": self.own_consumer,
        }

    def reply(self, raw: Any) -> int:
        return int(raw)
