"""CPU time of a full 14-strategy scan: of the bundled data per strategy, and of
synthetic universes of 20, 100 and 200 symbols.

    python bench/strategy_bench.py [--runs 20] [--universe-runs 5] [--sizes 20,100,200]

Prints each strategy's mean CPU time over the runs on the bundled data (after
one warm-up run, which also loads the dataset) and the total, against the 250 ms
budget of a scan for one user; then the mean CPU time of a whole scan (and of
its costliest strategy) on each synthetic universe. Exits with status 1 when the
bundled scan's mean total is over the budget (checked here, by `make bench` and
`make bench-strategies`, and not in the tests, where a loaded machine would fail
it). Simulated exchange latency is not included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strategies.catalog import CATALOG
from strategies.market_data import MarketSnapshot
from strategies.sources.bundled import BundledProvider

# Enough runs for a stable mean at millisecond resolution, few enough to finish in seconds.
DEFAULT_RUNS = 20
# A 200-symbol scan takes about a second: five runs give a mean to a few percent.
DEFAULT_UNIVERSE_RUNS = 5
DEFAULT_SIZES = (20, 100, 200)
# The CPU a full scan for one user may use (its budget on a 2-core machine).
BUDGET_MS = 250.0
MS_PER_S = 1000
HOUR_MS, FIVE_MIN_MS, FUNDING_STEP_MS = 3_600_000, 300_000, 8 * 3_600_000
AS_OF_MS = 1_764_547_200_000
# As much history as the longest rule reads (swing: 201 days; volatility: 180),
# a day of 5-minute bars past the 288 the intraday rules need, and ten holdings.
HOURLY_BARS, FIVE_MINUTE_BARS, HOLDINGS = 210 * 24, 400, 10
# Hourly log-return sigma of the common factor and of each coin's own noise.
MARKET_SIGMA, OWN_SIGMA = 0.004, 0.006
SEED = 20261204


def ohlcv(rng: np.random.Generator, closes: np.ndarray, step_ms: int) -> np.ndarray:
    """Candles around ``closes``: open at the previous close, a random reach each side."""
    opens = np.concatenate([[closes[0]], closes[:-1]])
    reach = np.abs(rng.standard_normal((2, len(closes)))) * OWN_SIGMA * closes
    stamps = AS_OF_MS - step_ms * np.arange(len(closes))[::-1]
    return np.column_stack(
        [
            stamps,
            opens,
            np.maximum(opens, closes) + reach[0],
            np.minimum(opens, closes) - reach[1],
            closes,
            rng.lognormal(5.0, 1.0, len(closes)),
        ]
    )


def universe(count: int, seed: int = SEED) -> MarketSnapshot:
    """``count`` coins on one market factor, with perps, funding, fees and holdings."""
    rng = np.random.default_rng(seed)
    market = MARKET_SIGMA * rng.standard_normal(HOURLY_BARS)
    symbols = (*(f"C{i:03d}/USDT" for i in range(count - 1)), "BTC/USDT")
    hourly, five, perp, funding = {}, {}, {}, {}
    funding_stamps = AS_OF_MS - FUNDING_STEP_MS * np.arange(HOURLY_BARS // 8)[::-1]
    for symbol in symbols:
        beta = rng.uniform(0.5, 1.5)
        returns = beta * market + OWN_SIGMA * rng.standard_normal(HOURLY_BARS)
        closes = rng.uniform(0.1, 1000.0) * np.exp(np.cumsum(returns))
        hourly[symbol] = ohlcv(rng, closes, HOUR_MS)
        small = closes[-1] * np.exp(np.cumsum(OWN_SIGMA / 3 * rng.standard_normal(400)))
        five[symbol] = ohlcv(rng, small, FIVE_MIN_MS)
        premium = 1.0 + rng.normal(0.0003, 0.001, HOURLY_BARS)
        perp[symbol] = np.column_stack([hourly[symbol][:, 0], closes * premium])
        funding[symbol] = np.column_stack(
            [funding_stamps, rng.normal(0.0001, 0.0003, len(funding_stamps))]
        )
    return MarketSnapshot(
        source="bench-synthetic",
        as_of_ms=AS_OF_MS,
        symbols=symbols,
        markets={s: {"maker": 0.0002, "taker": 0.0005} for s in symbols},
        candles_1h=hourly,
        candles_5m=five,
        funding=funding,
        perp_1h=perp,
        holdings={s: 1000.0 / hourly[s][-1, 4] for s in symbols[-HOLDINGS:]},
    )


def cpu_ms_per_strategy(snapshot: MarketSnapshot, runs: int) -> dict[str, list[float]]:
    """Each strategy's CPU time on ``snapshot`` per run, after one warm-up run."""
    for spec in CATALOG:
        spec.run(snapshot)
    timings: dict[str, list[float]] = {spec.name: [] for spec in CATALOG}
    for _ in range(runs):
        for spec in CATALOG:
            started = time.process_time()
            spec.run(snapshot)
            timings[spec.name].append((time.process_time() - started) * MS_PER_S)
    return timings


def bundled_table(runs: int) -> bool:
    """Print the per-strategy table; whether the mean total is within the budget."""
    provider = BundledProvider()
    snapshot = provider.snapshot_now(provider.symbols())
    counts = {spec.name: len(spec.run(snapshot).opportunities) for spec in CATALOG}
    timings = cpu_ms_per_strategy(snapshot, runs)
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
    return within


def universe_table(sizes: tuple[int, ...], runs: int) -> None:
    print(f"\nfull scan of {len(CATALOG)} strategies on a synthetic universe ({runs} runs)")
    print(f"{'symbols':>8}{'cpu ms (mean)':>15}{'max':>10}  costliest strategy (mean ms)")
    for size in sizes:
        timings = cpu_ms_per_strategy(universe(size), runs)
        totals = [sum(samples[run] for samples in timings.values()) for run in range(runs)]
        costliest = max(timings, key=lambda name: statistics.fmean(timings[name]))
        print(
            f"{size:>8}{statistics.fmean(totals):>15.1f}{max(totals):>10.1f}  "
            f"{costliest} ({statistics.fmean(timings[costliest]):.1f})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--universe-runs", type=int, default=DEFAULT_UNIVERSE_RUNS)
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="universe sizes, comma-separated (empty: none)",
    )
    args = parser.parse_args()
    within = bundled_table(args.runs)
    sizes = tuple(int(size) for size in args.sizes.split(",") if size)
    if sizes:
        universe_table(sizes, args.universe_runs)
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
