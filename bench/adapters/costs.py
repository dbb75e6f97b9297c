"""The cost models of a benchmark strategy, shared by the peers' task functions
(stdlib only). Opportunity Scanner's own are strategies/diagnostic.py."""

from __future__ import annotations

import os
import time

CPU_BURN_S = 0.001
# A held job (the one a status-read benchmark reads) outlives any benchmark run.
HOLD_S = 600.0
REDIS_URL_ENV = "BENCH_REDIS_URL"


def redis_url() -> str:
    return os.environ[REDIS_URL_ENV]


def burn_cpu() -> None:
    end = time.perf_counter() + CPU_BURN_S
    while time.perf_counter() < end:
        pass


def cost_of(strategy: str) -> str:
    """`noop_07` -> `noop`, `cpu_1ms_03` -> `cpu_1ms`."""
    return "cpu_1ms" if strategy.startswith("cpu_1ms") else "noop"


def started_key(scan: str, index: int) -> str:
    return f"bench:started:{scan}:{index}"


def pid_key(scan: str, index: int) -> str:
    return f"bench:pid:{scan}:{index}"
