"""The calls of the evidence scripts: an evaluation's lock and its stored result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coordinator.store import keys
from coordinator.store.scripts import ScriptCall


@dataclass(frozen=True, slots=True)
class RefreshEvidenceLock(ScriptCall[bool]):
    """Extend the lock of evaluation ``tag`` by ``ttl_ms`` while ``token`` holds it:
    whether it still did."""

    script = "refresh_evidence_lock"
    tag: str  # keys.evidence_tag
    token: str
    ttl_ms: int

    def keys(self) -> dict[str, str]:
        return {"lock_key": keys.evidence_lock(self.tag)}

    def args(self) -> dict[str, object]:
        return {"token": self.token, "ttl_ms": self.ttl_ms}

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1


@dataclass(frozen=True, slots=True)
class StoreEvidence(ScriptCall[None]):
    """Store evaluation ``tag`` (unless one is stored already) for ``retention_ms``,
    and release its lock if ``token`` still holds it."""

    script = "store_evidence"
    tag: str  # keys.evidence_tag
    token: str
    evaluation: bytes  # msgpack (codec.msgpack_encoder)
    retention_ms: int

    def keys(self) -> dict[str, str]:
        return {
            "result_key": keys.evidence_result(self.tag),
            "lock_key": keys.evidence_lock(self.tag),
        }

    def args(self) -> dict[str, object]:
        return {
            "token": self.token,
            "evaluation": self.evaluation,
            "retention_ms": self.retention_ms,
        }

    def reply(self, raw: Any) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReleaseEvidenceLock(ScriptCall[bool]):
    """Release the lock of evaluation ``tag`` if ``token`` still holds it: whether it
    did."""

    script = "release_evidence_lock"
    tag: str  # keys.evidence_tag
    token: str

    def keys(self) -> dict[str, str]:
        return {"lock_key": keys.evidence_lock(self.tag)}

    def args(self) -> dict[str, object]:
        return {"token": self.token}

    def reply(self, raw: Any) -> bool:
        return int(raw) == 1
