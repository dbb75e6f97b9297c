"""Workload 3, scan throughput: a closed loop of IN_FLIGHT scans, each fanning out to
FANOUT strategies; scans/s and end-to-end latency (submit -> terminal readable)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.stats import latency_summary

IN_FLIGHT = 8
FANOUT = 14
WARMUP_S = 1.0
MEASURE_S = 4.0


def strategies_of(cost: str) -> list[str]:
    return [f"{cost}_{n:02d}" for n in range(1, FANOUT + 1)]


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    names = strategies_of(params.get("cost", "noop"))
    warmup_s = float(params.get("warmup_s", WARMUP_S))
    measure_s = float(params.get("measure_s", MEASURE_S))
    await client.run_scan("bench-probe", names)  # every worker process is up and warm
    started = time.monotonic()
    window = (started + warmup_s, started + warmup_s + measure_s)
    latencies: list[float] = []
    errors: list[str] = []
    completed: list[float] = []  # every scan, warm-up included (for CPU per scan)

    async def slot(index: int) -> None:
        n = 0
        while time.monotonic() < window[1]:
            n += 1
            begun = time.monotonic()
            try:
                # A user per scan: the service limits how many scans one user starts a minute.
                await client.run_scan(f"bench-{index}-{n}-{started:.0f}", names)
            except Exception as exc:  # a failed scan is counted, never fatal to the run
                errors.append(repr(exc)[:200])
                continue
            ended = time.monotonic()
            completed.append(ended)
            if window[0] <= begun and ended <= window[1]:
                latencies.append(ended - begun)

    await asyncio.gather(*(slot(i) for i in range(IN_FLIGHT)))
    return {
        "scans_per_s": round(len(latencies) / measure_s, 2),
        **latency_summary(latencies),
        "completed_total": len(completed),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }
