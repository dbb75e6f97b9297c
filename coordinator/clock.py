"""Wall-clock helpers: milliseconds for storage, ISO-8601 for clients."""

from __future__ import annotations

import time
from datetime import UTC, datetime

MS_PER_S = 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / MS_PER_S, tz=UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    return iso(now_ms())
