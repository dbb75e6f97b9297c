"""The calls of the lease scripts: acquire a scan's lease, renew a batch, release one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import ScriptCall


@dataclass(frozen=True, slots=True)
class Granted:
    """The lease is ours at ``epoch``; the scan as its last owner published it."""

    epoch: int
    snapshot_json: bytes
    state_blob: bytes
    version: int
    results_json: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # "held", "missing" or "terminal"

    @property
    def scan_is_over(self) -> bool:
        """The scan is gone or finished: nobody will ever hold its lease again."""
        return self.reason in ("terminal", "missing")


@dataclass(frozen=True, slots=True)
class AcquireLease(ScriptCall[Granted | Refused]):
    """Take a scan's lease at the next epoch with ``token`` (see acquire_lease.lua)."""

    script = "acquire_lease"
    scan_id: str
    token: str
    worker: str
    pid: int
    ttl_ms: int
    now_ms: int
    now_iso: str

    def keys(self) -> dict[str, str]:
        return {
            "scan_key": keys.scan(self.scan_id),
            "lease_key": keys.lease(self.scan_id),
            "lifecycle_key": keys.lifecycle(self.scan_id),
            "results_key": keys.results(self.scan_id),
        }

    def args(self) -> dict[str, object]:
        return {
            "token": self.token,
            "worker": self.worker,
            "pid": self.pid,
            "ttl_ms": self.ttl_ms,
            "now_ms": self.now_ms,
            "now_iso": self.now_iso,
        }

    def reply(self, raw: Any) -> Granted | Refused:
        if int(raw[0]) != 1:
            reason = raw[1]
            return Refused(reason.decode() if isinstance(reason, bytes) else str(reason))
        _granted, epoch, snapshot_json, state_blob, version, results_json = raw
        return Granted(int(epoch), snapshot_json, state_blob, int(version), results_json)


@dataclass(frozen=True, slots=True)
class RenewLeases(ScriptCall[list[bool]]):
    """Renew each lease of a batch (one slot's) still held with its token, replacing
    its expiry by ``ttl_ms``: whether each was renewed, in order."""

    script = "renew_leases"
    ttl_ms: int
    scan_ids: Sequence[str]
    tokens: Sequence[str]

    def more_keys(self) -> Sequence[str]:
        return [keys.lease(scan_id) for scan_id in self.scan_ids]

    def args(self) -> dict[str, object]:
        return {"ttl_ms": self.ttl_ms}

    def more_args(self) -> Sequence[object]:
        return self.tokens

    def reply(self, raw: Any) -> list[bool]:
        return [int(renewed) == 1 for renewed in raw]


@dataclass(frozen=True, slots=True)
class ReleaseLease(ScriptCall[bool]):
    """Give a lease up if it is still held with ``token``; whether it was."""

    script = "release_lease"
    scan_id: str
    token: str
    now_iso: str
    worker: str
    epoch: int

    def keys(self) -> dict[str, str]:
        return {
            "lease_key": keys.lease(self.scan_id),
            "scan_key": keys.scan(self.scan_id),
            "lifecycle_key": keys.lifecycle(self.scan_id),
        }

    def args(self) -> dict[str, object]:
        return {
            "token": self.token,
            "now_iso": self.now_iso,
            "worker": self.worker,
            "epoch": self.epoch,
        }

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1
