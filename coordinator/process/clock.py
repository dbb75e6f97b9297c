"""Wall-clock helpers: milliseconds for storage, ISO-8601 for clients."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

MS_PER_S = 1000
# Distinct instants formatted and kept: a scan's events share a handful of them
# (many reports land in the same millisecond, all carry the same market-data time).
ISO_CACHED = 4096


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@functools.lru_cache(maxsize=ISO_CACHED)
def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / MS_PER_S, tz=UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    return iso(now_ms())
