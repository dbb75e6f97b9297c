"""A full scan of the bundled data yields this reviewed set of opportunities.

The bundled year is drawn from a stochastic model with nothing planted for any
strategy (docs/bundled-data.md), so GOLDEN is simply what the strategies find at
the last bar of the committed seed's year: the committed seed's outcome, not a
designed one. Half the catalogue finding nothing there is expected. When a
strategy, an indicator or the dataset changes on purpose, review the new output
and update GOLDEN; an accidental change fails here. Each strategy's must-fire
and must-stay-silent cases are constructed in tests/strategies/test_constructed_cases.py.
The CPU a full scan takes is measured by bench/strategy_bench.py (`make
bench-strategies`), not here: a time budget in a test fails on a loaded machine
and proves no behaviour.
"""

from collections import Counter

from strategies.catalog import CATALOG
from strategies.indicators import iso_of
from strategies.providers import build_provider
from tests.strategies.synthetic import assert_well_formed

GOLDEN: dict[str, list[tuple[str, str]]] = {
    "trend_momentum": [("DOGE/USDT", "short")],
    "cross_sectional_momentum": [
        ("BNB/USDT", "long"),
        ("DOGE/USDT", "short"),
        ("ETH/USDT", "short"),
        ("SOL/USDT", "long"),
    ],
    "mean_reversion": [("BTC/USDT", "long")],
    "breakout": [],
    "scalping": [],
    "swing": [],
    "pairs_trading": [],
    # The year ends in a bull regime, whose perpetual premium (and so funding) is high.
    "funding_carry": [
        (f"{base}/USDT", "long")
        for base in ("ADA", "AVAX", "BNB", "BTC", "DOGE", "ETH", "LINK", "LTC", "SOL", "XRP")
    ],
    "market_making": [],
    "volatility_regime": [],
    "grid": [(f"{base}/USDT", side) for base in ("ETH", "LINK") for side in ("long", "short")],
    "portfolio_optimization": [("AVAX/USDT", "long"), ("BTC/USDT", "short"), ("LINK/USDT", "long")],
    "risk_management": [("BTC/USDT", "short"), ("ETH/USDT", "short")],
    "hedging": [("BTC/USDT:USDT", "short")],
}
# The total of GOLDEN, written out so that a change of it is a visible diff.
GOLDEN_COUNT = 26


async def test_full_bundled_scan_is_the_reviewed_set() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    snapshot = await provider.snapshot(())
    found = {spec.name: spec.run(snapshot).opportunities for spec in CATALOG}
    assert list(found) == list(GOLDEN)  # the catalogue's order
    assert {name: sorted((o.symbol, o.side) for o in ops) for name, ops in found.items()} == GOLDEN
    counts = Counter({name: len(ops) for name, ops in found.items()})
    assert sum(counts.values()) == GOLDEN_COUNT
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
