"""The calls of a scan's scripts: create it, append to its mailbox, publish it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import (
    FENCED_NOT_OWNER,
    FENCED_STALE_EPOCH,
    FENCED_VERSION_CONFLICT,
    ScriptCall,
)

# Why the fenced publish refused, by the code it returned.
FENCE_REASONS = {
    FENCED_NOT_OWNER: "lease token no longer ours",
    FENCED_STALE_EPOCH: "a newer epoch has written",
    FENCED_VERSION_CONFLICT: "snapshot version moved under us",
}


@dataclass(frozen=True, slots=True)
class CreateScan(ScriptCall[bool]):
    """Write a new scan's queued snapshot, empty mailbox, first timeline entry and
    tombstone; False when a scan with that id exists."""

    script = "create_scan"
    scan_id: str
    user: str
    snap: bytes
    state: bytes
    status: str
    active_ttl_ms: int
    created_event: bytes
    tomb: bytes
    tomb_ttl_ms: int

    def keys(self) -> dict[str, str]:
        return {
            "scan_key": keys.scan(self.scan_id),
            "mailbox_key": keys.mailbox(self.scan_id),
            "lifecycle_key": keys.lifecycle(self.scan_id),
            "tomb_key": keys.tombstone(self.scan_id),
        }

    def args(self) -> dict[str, object]:
        return {
            "user": self.user,
            "snap": self.snap,
            "state": self.state,
            "status": self.status,
            "active_ttl_ms": self.active_ttl_ms,
            "created_event": self.created_event,
            "tomb": self.tomb,
            "tomb_ttl_ms": self.tomb_ttl_ms,
        }

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1


@dataclass(frozen=True, slots=True)
class Published:
    version: int


@dataclass(frozen=True, slots=True)
class Fenced:
    reason: str


@dataclass(frozen=True, slots=True)
class PublishSnapshot(ScriptCall[Published | Fenced]):
    """The fenced publish (see publish_snapshot.lua): the new version, or why not."""

    script = "publish_snapshot"
    scan_id: str
    token: str
    epoch: int
    expected_version: int
    snap: bytes
    state: bytes
    status: str
    results: bytes  # b"" when unchanged
    cursor: str  # "" before the first entry folded
    terminal: bool
    retention_ms: int
    tomb: bytes
    tomb_ttl_ms: int
    events: bytes  # b"" for none

    def keys(self) -> dict[str, str]:
        return {
            "scan_key": keys.scan(self.scan_id),
            "lease_key": keys.lease(self.scan_id),
            "results_key": keys.results(self.scan_id),
            "mailbox_key": keys.mailbox(self.scan_id),
            "lifecycle_key": keys.lifecycle(self.scan_id),
            "tomb_key": keys.tombstone(self.scan_id),
        }

    def args(self) -> dict[str, object]:
        return {
            "token": self.token,
            "epoch": self.epoch,
            "expected_version": self.expected_version,
            "snap": self.snap,
            "state": self.state,
            "status": self.status,
            "results": self.results,
            "cursor": self.cursor,
            "terminal": "1" if self.terminal else "0",
            "retention_ms": self.retention_ms,
            "tomb": self.tomb,
            "tomb_ttl_ms": self.tomb_ttl_ms,
            "channel": keys.events_channel(self.scan_id),
            "events": self.events,
        }

    def reply(self, raw: Any) -> Published | Fenced:
        code = int(raw)
        if code < 0:
            return Fenced(FENCE_REASONS.get(code, str(code)))
        return Published(code)


@dataclass(frozen=True, slots=True)
class Appended:
    """An append's entries: the id of the mailbox's entry before them ('' for none),
    then one id per message, in order."""

    previous: str
    entry_ids: list[str]


@dataclass(frozen=True, slots=True)
class AppendMailbox(ScriptCall[Appended | None]):
    """Append messages to a live scan's mailbox and ring its owner's doorbell unless
    the owner is ``local_worker`` (the appender); None when refused (the mailbox is
    gone or the scan ended)."""

    script = "append_mailbox"
    scan_id: str
    local_worker: str
    messages: Sequence[bytes]

    def keys(self) -> dict[str, str]:
        return {
            "mailbox_key": keys.mailbox(self.scan_id),
            "lease_key": keys.lease(self.scan_id),
            "scan_key": keys.scan(self.scan_id),
        }

    def args(self) -> dict[str, object]:
        return {
            "doorbell_prefix": keys.DOORBELL_PREFIX,
            "scan_id": self.scan_id,
            "local_worker": self.local_worker,
        }

    def more_args(self) -> Sequence[object]:
        return self.messages

    def reply(self, raw: Any) -> Appended | None:
        return appended_of(raw)


def appended_of(raw: Any) -> Appended | None:
    """An append_mailbox reply: false (refused), or the previous id then the new ones."""
    if not raw:
        return None
    previous, *entry_ids = (entry_id.decode() for entry_id in raw)
    return Appended(previous, entry_ids)


@dataclass(frozen=True, slots=True)
class RecheckMailboxes(ScriptCall[list[bool]]):
    """Whether each of these mailboxes (one slot's) holds an entry after its owner's
    cursor, in order."""

    script = "recheck_mailboxes"
    scan_ids: Sequence[str]
    cursors: Sequence[str]

    def more_keys(self) -> Sequence[str]:
        return [keys.mailbox(scan_id) for scan_id in self.scan_ids]

    def more_args(self) -> Sequence[object]:
        return self.cursors

    def reply(self, raw: Any) -> list[bool]:
        # The script answers with the 1-based positions of the mailboxes with news.
        news = {int(position) - 1 for position in raw}
        return [index in news for index in range(len(self.scan_ids))]
