"""A scan's mailbox: a Redis Stream that strategy actors and handlers append to.

Only the owner reads it, from its cursor; the owner trims it up to the cursor in
the same script that publishes the snapshot, so nothing unfolded is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import mailbox_decoder, msgpack_encoder
from coordinator.store.records import MailboxMessage
from coordinator.store.scripts import queue_call
from coordinator.store.scripts.scan import Appended, AppendMailbox, appended_of

# Entries folded per read; a scan has ~2 per strategy, so this is rarely reached.
READ_BATCH = 256


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    message: MailboxMessage | None  # None for an entry that does not decode


@dataclass(frozen=True, slots=True)
class LocalOwner:
    """The process appending: when it owns the scan itself, it wakes its actor
    directly instead of through a doorbell round trip via Redis, or hands it the
    entries it appended, with the id of the entry before them (see
    ScanActor.deliver), so the actor need not read them back; and its strategy
    runs ask it, not Redis, whether such a scan is still running."""

    worker_id: str
    wake: Callable[[str], None]
    deliver: Callable[[str, str, list[Entry]], None]
    # The epoch of a scan this process owns and has not finished, else None.
    epoch_of: Callable[[str], int | None]


class Mailbox:
    def __init__(
        self,
        redis: Redis,
        autopipe: AutoPipeline | None = None,
        local_owner: LocalOwner | None = None,
    ) -> None:
        self._redis = redis
        self._autopipe = autopipe or AutoPipeline(redis)
        self._local_owner = local_owner

    async def append(self, scan_id: str, message: MailboxMessage) -> str | None:
        """Append a message; None when the scan's mailbox no longer exists or the scan
        ended. Appends to one scan that concurrent tasks make while a round trip is in
        flight go together, in one script call (see coordinator.store.autopipe)."""
        entry_id = await self._autopipe.run_grouped(
            self.queue_appends, split_appended, scan_id, message
        )
        if entry_id is not None and self._local_owner is not None:
            # The script rang no doorbell if this process owns the scan: wake it here.
            self._local_owner.wake(scan_id)
        return entry_id

    async def append_all(
        self, scan_id: str, messages: Sequence[MailboxMessage]
    ) -> list[str | None]:
        """Append several messages in one script call; each one's entry id (None for
        each when the mailbox no longer exists or the scan ended)."""
        (raw,) = await self._autopipe.run(lambda pipe: self.queue_appends(pipe, scan_id, messages))
        appended = appended_of(raw)
        if appended is not None and self._local_owner is not None:
            entries = [
                Entry(entry_id, message)
                for entry_id, message in zip(appended.entry_ids, messages, strict=True)
            ]
            self._local_owner.deliver(scan_id, appended.previous, entries)
        return entry_ids_of(appended, len(messages))

    def queue_appends(
        self, pipe: Pipeline, scan_id: str, messages: Sequence[MailboxMessage]
    ) -> None:
        queue_call(pipe, self.append_call(scan_id, messages))

    def append_call(self, scan_id: str, messages: Sequence[MailboxMessage]) -> AppendMailbox:
        local_worker = self._local_owner.worker_id if self._local_owner is not None else ""
        return AppendMailbox(
            scan_id=scan_id,
            local_worker=local_worker,
            messages=[msgpack_encoder.encode(message) for message in messages],
        )

    async def read_after(self, scan_id: str, cursor: str) -> list[Entry]:
        """Entries strictly after ``cursor``, oldest first."""
        mailbox = keys.mailbox(scan_id)
        (raw,) = await self._autopipe.run(
            lambda pipe: pipe.xrange(mailbox, min=f"({cursor}", count=READ_BATCH)
        )
        return [Entry(entry_id.decode(), decode_message(fields)) for entry_id, fields in raw]


def entry_ids_of(appended: Appended | None, count: int) -> list[str | None]:
    """The entry id of each of ``count`` messages of one append; None for each when
    it was refused."""
    if appended is None:
        return [None] * count
    return list(appended.entry_ids)


def split_appended(raw: object, count: int) -> list[str | None]:
    """A grouped append's reply (see Mailbox.append): each message's entry id."""
    return entry_ids_of(appended_of(raw), count)


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id ("<ms>-<seq>") as what orders it."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def decode_message(fields: dict[bytes, bytes]) -> MailboxMessage | None:
    blob = fields.get(b"m", b"")
    if not blob:
        return None
    try:
        return mailbox_decoder.decode(blob)
    except msgspec.DecodeError:  # a corrupt entry is skipped, never fatal to the scan
        return None
