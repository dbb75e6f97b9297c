"""The calls of the edge's scripts: per-user connection slots, failed authentications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import ScriptCall


@dataclass(frozen=True, slots=True)
class TakeConnectionSlot(ScriptCall[bool]):
    """Take one of the user's slots for ``member`` unless ``limit`` are held (lapsed
    ones dropped first): whether it was taken."""

    script = "take_connection_slot"
    connections_key: str  # keys.user_connections
    member: str
    limit: int
    ttl_ms: int

    def keys(self) -> dict[str, str]:
        return {"connections_key": self.connections_key}

    def args(self) -> dict[str, object]:
        return {"member": self.member, "limit": self.limit, "ttl_ms": self.ttl_ms}

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1


@dataclass(frozen=True, slots=True)
class RefreshConnectionSlots(ScriptCall[None]):
    """Each of ``members`` still in the user's set lapses ``ttl_ms`` from now."""

    script = "refresh_connection_slots"
    connections_key: str  # keys.user_connections
    ttl_ms: int
    members: Sequence[str]

    def keys(self) -> dict[str, str]:
        return {"connections_key": self.connections_key}

    def args(self) -> dict[str, object]:
        return {"ttl_ms": self.ttl_ms}

    def more_args(self) -> Sequence[object]:
        return self.members

    def reply(self, raw: Any) -> None:
        return None


@dataclass(frozen=True, slots=True)
class AuthFailureCount:
    count: int  # the failures of the address in the current window, this one included
    window_left_ms: int


@dataclass(frozen=True, slots=True)
class CountAuthFailure(ScriptCall[AuthFailureCount]):
    """Count one 401 answered to ``address`` in its fixed window of ``window_ms``."""

    script = "count_auth_failure"
    address: str
    window_ms: int

    def keys(self) -> dict[str, str]:
        return {"failures_key": keys.auth_failures(self.address)}

    def args(self) -> dict[str, object]:
        return {"window_ms": self.window_ms}

    def reply(self, raw: Any) -> AuthFailureCount:
        count, left_ms = raw
        return AuthFailureCount(int(count), int(left_ms))
