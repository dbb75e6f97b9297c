"""Garbage-collector thresholds for a worker process.

A worker owning thousands of scans holds hundreds of thousands of long-lived
objects (actors, snapshots, leases). With CPython's default thresholds
(700, 10, 10) a full (generation 2) collection walks all of them every few
seconds while scans are being created, stalling the event loop 150-265 ms at a
time and collecting nothing (measured at 10,000 running scans, see
docs/benchmarks.md). Most garbage here is freed by reference counting; the
cyclic collector only needs to run rarely. With these thresholds the same run
showed a loop-lag p99 of at most 50 ms, for about 20 MB more RSS per worker.
"""

from __future__ import annotations

import gc

# Allocations before a young collection; young collections per middle one;
# middle collections per full one.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
