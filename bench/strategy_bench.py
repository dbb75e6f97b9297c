"""CPU time of a full 14-strategy scan of the bundled data, per strategy.

    python bench/strategy_bench.py [--runs 20]

Prints each strategy's mean CPU time over the runs (after one warm-up run,
which also loads the dataset) and the total, against the 250 ms budget of a
scan for one user; exits with status 1 when the mean total is over it (the
budget is checked here, by `make bench` and `make bench-strategies`, and not in
the tests, where a loaded machine would fail it). Simulated exchange latency is
not included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strategies.catalog import CATALOG
from strategies.sources.bundled import BundledProvider

# Enough runs for a stable mean at millisecond resolution, few enough to finish in seconds.
DEFAULT_RUNS = 20
# The CPU a full scan for one user may use (its budget on a 2-core machine).
BUDGET_MS = 250.0
MS_PER_S = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    runs = parser.parse_args().runs
    provider = BundledProvider()
    snapshot = provider.snapshot_now(provider.symbols())
    timings: dict[str, list[float]] = {spec.name: [] for spec in CATALOG}
    counts = {spec.name: len(spec.run(snapshot)) for spec in CATALOG}  # warm-up
    for _ in range(runs):
        for spec in CATALOG:
            started = time.process_time()
            spec.run(snapshot)
            timings[spec.name].append((time.process_time() - started) * MS_PER_S)
    print(f"{'strategy':<26}{'cpu ms (mean)':>14}{'opportunities':>15}")
    for name, samples in timings.items():
        print(f"{name:<26}{statistics.fmean(samples):>14.2f}{counts[name]:>15}")
    totals = [sum(samples[run] for samples in timings.values()) for run in range(runs)]
    total = statistics.fmean(totals)
    print(f"{'total':<26}{total:>14.2f}{sum(counts.values()):>15}")
    within = total <= BUDGET_MS
    print(
        f"budget {BUDGET_MS:g} ms: {'within' if within else 'OVER'} "
        f"(max of {runs} runs {max(totals):.2f} ms)"
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
