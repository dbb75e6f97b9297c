"""Worker processes run the cyclic garbage collector rarely (coordinator.process.gc_tuning)."""

from __future__ import annotations

import gc

from coordinator.process.gc_tuning import GC_THRESHOLDS, tune_gc


def test_tune_gc_sets_the_worker_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]  # young collections far rarer than the default
    finally:
        gc.set_threshold(*before)
