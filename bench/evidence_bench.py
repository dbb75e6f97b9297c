"""CPU of one evaluation (every strategy walked forward on the bundled data, as a
worker's child process computes it) and what attaching evidence adds to a scan.

    python bench/evidence_bench.py [--runs 20] [--loop-lag]

The scan part runs the 14 rules on the bundled snapshot, as bench/strategy_bench.py
does, then attaches each run's evidence as a strategy run does once its
evaluation is in memory; it prints both means and their ratio. ``--loop-lag``
instead measures an event loop's lag (a 10 ms ticker) while a child process
computes the evaluation and sends it back, as a worker does, against the same
ticker with nothing running.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import Settings
from coordinator.service.evidence import CHILD_START_METHOD, receive
from coordinator.store.codec import evaluation_decoder, msgpack_encoder
from strategies.catalog import CATALOG
from strategies.evidence import attach, compute, records
from strategies.sources.bundled import BundledProvider

DEFAULT_RUNS = 20
MS_PER_S = 1000
# A scan may spend at most this much more CPU once evidence is attached.
ATTACH_BUDGET = 0.25


def evaluate_all() -> dict[str, records.Evaluation]:
    started = time.process_time()
    evaluations = {}
    names = [spec.name for spec in CATALOG]
    for computed in compute.evaluations(Settings(), names):
        assert computed.evaluation is not None, computed.error
        evaluation = computed.evaluation
        evaluations[evaluation.strategy] = evaluation
        print(f"  {evaluation.strategy:<26}{evaluation.cpu_s:>8.2f} s")
    print(f"CPU of one evaluation: {time.process_time() - started:.1f} s (14 strategies)")
    return evaluations


def scan_cpu(evaluations: dict[str, records.Evaluation], runs: int) -> None:
    provider = BundledProvider()
    snapshot = provider.snapshot_now(provider.symbols())
    bare, attached = [], []
    for spec in CATALOG:  # warm-up
        [attach.attach(o, evaluations[spec.name]) for o in spec.run(snapshot).opportunities]
    for _ in range(runs):
        run_s = attach_s = 0.0
        for spec in CATALOG:
            started = time.process_time()
            found = spec.run(snapshot).opportunities
            ran = time.process_time()
            [attach.attach(o, evaluations[spec.name]) for o in found]
            run_s += ran - started
            attach_s += time.process_time() - ran
        bare.append(run_s * MS_PER_S)
        attached.append((run_s + attach_s) * MS_PER_S)
    before, after = statistics.fmean(bare), statistics.fmean(attached)
    print(f"scan CPU without evidence: {before:.2f} ms (mean of {runs})")
    print(f"scan CPU with evidence:    {after:.2f} ms (+{after / before - 1:.1%})")
    verdict = "within" if after <= before * (1 + ATTACH_BUDGET) else "OVER"
    print(f"budget +{ATTACH_BUDGET:.0%}: {verdict}")


TICK_S = 0.01
BASELINE_S = 30.0


async def ticker(until: asyncio.Future[Any] | None, seconds: float) -> list[float]:
    """Lags (ms) of a 10 ms sleep, until ``until`` is done or for ``seconds``."""
    lags = []
    end = time.monotonic() + seconds
    while (until is not None and not until.done()) or (until is None and time.monotonic() < end):
        before = time.monotonic()
        await asyncio.sleep(TICK_S)
        lags.append((time.monotonic() - before - TICK_S) * MS_PER_S)
    return sorted(lags)


async def receive_all(names: list[str]) -> int:
    context = multiprocessing.get_context(CHILD_START_METHOD)
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=compute.run_child, args=(sending, Settings(), names))
    child.start()
    sending.close()
    received = 0
    while (computed := await asyncio.to_thread(receive, receiving)) is not None:
        assert computed.evaluation is not None, computed.error
        # What the parent does with it: stores it encoded, installs it decoded.
        evaluation_decoder.decode(msgpack_encoder.encode(computed.evaluation))
        received += 1
    await asyncio.to_thread(child.join)
    return received


def quantiles(label: str, lags: list[float]) -> None:
    p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99)]
    print(f"{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lags[-1]:.2f} ms ({len(lags)} ticks)")


async def loop_lag() -> None:
    quantiles("loop lag, nothing running", await ticker(None, BASELINE_S))
    computing = asyncio.ensure_future(receive_all([spec.name for spec in CATALOG]))
    lags = await ticker(computing, 0.0)
    print(f"{await computing} evaluations received")
    quantiles("loop lag, a child computing", lags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--loop-lag", action="store_true")
    options = parser.parse_args()
    if options.loop_lag:
        asyncio.run(loop_lag())
    else:
        scan_cpu(evaluate_all(), options.runs)


if __name__ == "__main__":
    main()
