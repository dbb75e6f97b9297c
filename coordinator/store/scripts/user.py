"""The calls of a user's scripts: the start rate, the active scan pointer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import ScriptCall


@dataclass(frozen=True, slots=True)
class StartSlot:
    allowed: bool
    retry_after_ms: int  # 0 when allowed


@dataclass(frozen=True, slots=True)
class TakeStartSlot(ScriptCall[StartSlot]):
    """Count a scan start in the user's fixed rate window, unless ``limit`` were."""

    script = "take_start_slot"
    user_id: str
    limit: int
    window_ms: int

    def keys(self) -> dict[str, str]:
        return {"start_rate_key": keys.user_start_rate(self.user_id)}

    def args(self) -> dict[str, object]:
        return {"limit": self.limit, "window_ms": self.window_ms}

    def reply(self, raw: Any) -> StartSlot:
        retry_after_ms = int(raw)
        return StartSlot(retry_after_ms <= 0, max(0, retry_after_ms))


@dataclass(frozen=True, slots=True)
class ClaimUserScan(ScriptCall[str]):
    """Point the user's active (and idempotency) key at a new scan unless another
    holds it: the id of the scan the user ends up with (see claim_user_scan.lua)."""

    script = "claim_user_scan"
    user_id: str
    scan_id: str
    idempotency_key: str | None
    stale_active: str | None
    created_ms: int
    history_limit: int
    ttl_ms: int

    def keys(self) -> dict[str, str]:
        active = keys.user_active(self.user_id)
        return {
            "active_key": active,
            "history_key": keys.user_scans(self.user_id),
            "idempotency_key": (
                keys.user_idempotency(self.user_id, self.idempotency_key)
                if self.idempotency_key
                else active
            ),
        }

    def args(self) -> dict[str, object]:
        return {
            "scan_id": self.scan_id,
            "stale_active": self.stale_active or "",
            "created_ms": self.created_ms,
            "history_limit": self.history_limit,
            "ttl_ms": self.ttl_ms,
            "has_idempotency": "1" if self.idempotency_key else "0",
        }

    def reply(self, raw: Any) -> str:
        return str(raw.decode())


@dataclass(frozen=True, slots=True)
class ClearUserActive(ScriptCall[bool]):
    """Clear the user's active pointer if it is still ``scan_id``; whether it was."""

    script = "clear_user_active"
    user_id: str
    scan_id: str

    def keys(self) -> dict[str, str]:
        return {"active_key": keys.user_active(self.user_id)}

    def args(self) -> dict[str, object]:
        return {"scan_id": self.scan_id}

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1
