"""Percentiles and result records shared by every workload and adapter (stdlib only:
it is imported in the peers' own virtualenvs too)."""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence

MS_PER_S = 1000


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p99 in milliseconds of latencies given in seconds."""
    return {
        "p50_ms": round(percentile(samples_s, 0.50) * MS_PER_S, 3),
        "p99_ms": round(percentile(samples_s, 0.99) * MS_PER_S, 3),
        "samples": len(samples_s),
    }


def median(values: Sequence[float]) -> float:
    clean = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def emit(result: dict[str, object]) -> None:
    """A driver's one line of output: the runner reads the last JSON line of stdout."""
    result.setdefault("loadavg", load_average())
    result.setdefault("at", time.time())
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
