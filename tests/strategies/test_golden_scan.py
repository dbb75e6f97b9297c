"""A full scan of the bundled data yields this reviewed set of opportunities.

When a strategy, an indicator or the dataset changes on purpose, review the
new output and update GOLDEN; an accidental change fails here.
"""

import time
from collections import Counter

from strategies.catalog import CATALOG
from strategies.indicators import iso_of
from strategies.providers import build_provider
from tests.strategies.synthetic import assert_well_formed

GOLDEN: dict[str, list[tuple[str, str]]] = {
    "trend_momentum": [("SOL/USDT", "long")],
    "cross_sectional_momentum": [
        ("BNB/USDT", "long"),
        ("BTC/USDT", "short"),
        ("DOGE/USDT", "short"),
        ("SOL/USDT", "long"),
    ],
    "mean_reversion": [("AVAX/USDT", "short"), ("DOGE/USDT", "long")],
    "breakout": [("AVAX/USDT", "long")],
    "scalping": [("ETH/USDT", "long")],
    "swing": [("BNB/USDT", "long")],
    "pairs_trading": [("LINK/USDT", "short")],
    "funding_carry": [("XRP/USDT", "long")],
    "market_making": [("BTC/USDT", "long"), ("BTC/USDT", "short")],
    "volatility_regime": [
        (f"{base}/USDT", side)
        for base in ("ADA", "AVAX", "BNB", "LTC", "SOL", "XRP")
        for side in ("long", "short")
    ],
    "grid": [
        (f"{base}/USDT", side) for base in ("ADA", "LINK", "LTC") for side in ("long", "short")
    ],
    "portfolio_optimization": [("AVAX/USDT", "long"), ("LINK/USDT", "long"), ("SOL/USDT", "short")],
    "risk_management": [("BTC/USDT", "short"), ("SOL/USDT", "short")],
    "hedging": [("BTC/USDT:USDT", "short")],
}


async def test_full_bundled_scan_is_the_reviewed_set() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    snapshot = await provider.snapshot(())
    found = {spec.name: spec.run(snapshot).opportunities for spec in CATALOG}
    assert list(found) == list(GOLDEN)  # the catalogue's order
    assert {name: sorted((o.symbol, o.side) for o in ops) for name, ops in found.items()} == GOLDEN
    counts = Counter({name: len(ops) for name, ops in found.items()})
    assert sum(counts.values()) == 38
    for opportunities in found.values():
        for opportunity in opportunities:
            assert_well_formed(opportunity)
            assert opportunity.data_source == "bundled-synthetic"
            assert opportunity.as_of == iso_of(snapshot.as_of_ms)


async def test_each_strategy_sees_only_the_requested_symbols() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    snapshot = await provider.snapshot(["SOL/USDT", "DOGE/USDT"])
    symbols = {o.symbol for spec in CATALOG for o in spec.run(snapshot).opportunities}
    assert symbols <= {"SOL/USDT", "DOGE/USDT"}


# The budget for a full scan of the bundled data for one user, in CPU ms.
SCAN_CPU_BUDGET_MS = 250.0


async def test_full_scan_fits_the_cpu_budget() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    snapshot = await provider.snapshot(())
    for spec in CATALOG:  # warm-up: first calls pay for imports and caches
        spec.run(snapshot)
    started = time.process_time()
    for spec in CATALOG:
        spec.run(snapshot)
    assert (time.process_time() - started) * 1000 < SCAN_CPU_BUDGET_MS
