import asyncio
import functools
import json
import time
from pathlib import Path

import numpy as np
import pytest

from scripts import describe_market_data, generate_market_data
from strategies.errors import UnknownSymbol
from strategies.providers import build_provider
from strategies.sources.bundled import DATA_PATH, SOURCE_NAME, load_dataset

TEN_PAIRS = (
    "BTC/USDT",
    "ETH/USDT",
    "SOL/USDT",
    "BNB/USDT",
    "XRP/USDT",
    "ADA/USDT",
    "DOGE/USDT",
    "AVAX/USDT",
    "LINK/USDT",
    "LTC/USDT",
)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "bundled-data.md"
MEASURED_START, MEASURED_END = "<!-- measured:start -->\n", "<!-- measured:end -->"
HOURS_PER_YEAR = 365 * 24
FIVE_MIN_BARS_PER_TWO_WEEKS = 14 * 24 * 12


async def test_bundled_snapshot_has_the_documented_shape() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    assert provider.symbols() == TEN_PAIRS
    snap = await provider.snapshot(())
    assert snap.source == SOURCE_NAME and snap.symbols == TEN_PAIRS
    for symbol in TEN_PAIRS:
        bars = snap.candles_1h[symbol]
        assert bars.shape == (HOURS_PER_YEAR, 6)
        assert bars[-1, 0] == snap.as_of_ms
        assert np.all(np.diff(bars[:, 0]) == 3_600_000)
        assert np.all(bars[:, 2] >= np.maximum(bars[:, 1], bars[:, 4]) * (1 - 1e-6))
        assert np.all(bars[:, 3] <= np.minimum(bars[:, 1], bars[:, 4]) * (1 + 1e-6))
        assert (
            snap.funding[symbol].shape[1] == 2 and snap.perp_1h[symbol].shape[0] == HOURS_PER_YEAR
        )
        assert {"maker", "taker", "precision", "limits"} <= set(snap.markets[symbol])
    assert set(snap.candles_5m) == {"BTC/USDT", "ETH/USDT"}
    assert all(bars.shape == (FIVE_MIN_BARS_PER_TWO_WEEKS, 6) for bars in snap.candles_5m.values())
    assert snap.holdings


async def test_snapshots_share_the_loaded_arrays_read_only() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    first, second = (
        await provider.snapshot(["BTC/USDT"]),
        await provider.snapshot(["BTC/USDT", "ETH/USDT"]),
    )
    assert first.candles_1h["BTC/USDT"] is second.candles_1h["BTC/USDT"]
    assert first.as_of_ms == second.as_of_ms
    with pytest.raises(ValueError, match="read-only"):
        first.candles_1h["BTC/USDT"][0, 4] = 1.0


async def test_unknown_symbol_lists_the_valid_ones() -> None:
    provider = build_provider("bundled", latency_ms=0, files_dir=None)
    with pytest.raises(UnknownSymbol) as raised:
        await provider.snapshot(["BTC/USDT", "NOPE/USDT"])
    assert raised.value.symbols == ["NOPE/USDT"] and raised.value.valid == TEN_PAIRS


async def test_latency_is_simulated_per_fetch() -> None:
    provider = build_provider("bundled", latency_ms=50, files_dir=None)
    started = time.monotonic()
    await asyncio.gather(provider.snapshot(["BTC/USDT"]), provider.snapshot(["ETH/USDT"]))
    assert 0.045 <= time.monotonic() - started < 1.0


@functools.cache
def regenerated_with_the_committed_seed() -> dict[str, np.ndarray]:
    """One regeneration (about a second) shared by the tests that need it."""
    return generate_market_data.dataset(generate_market_data.SEED)


def test_the_seeded_generator_reproduces_the_committed_dataset() -> None:
    regenerated = regenerated_with_the_committed_seed()
    with np.load(DATA_PATH) as committed:
        assert set(committed.files) == {*regenerated, "meta"}
        for name, values in regenerated.items():
            np.testing.assert_array_equal(committed[name], values, err_msg=name)
        assert json.loads(committed["meta"].tobytes()) == generate_market_data.meta(
            generate_market_data.SEED
        )


def test_the_committed_file_names_its_generator_and_seed() -> None:
    generator = load_dataset()["meta"]["generator"]
    assert generator == {
        "script": "scripts/generate_market_data.py",
        "version": generate_market_data.GENERATOR_VERSION,
        "seed": generate_market_data.SEED,
        "synthetic": True,
        "model": "docs/bundled-data.md",
    }


def test_another_seed_draws_another_dataset() -> None:
    # The seed drives every component: a generator that ignored it (or one
    # component that did) would hand every user the same "random" year.
    first = regenerated_with_the_committed_seed()
    other = generate_market_data.dataset(generate_market_data.SEED + 1)
    for name, values in first.items():
        assert not np.array_equal(values, other[name]), name


def test_the_docs_measure_the_committed_file() -> None:
    measured = DOCS.read_text().split(MEASURED_START)[1].split(MEASURED_END)[0]
    assert measured == describe_market_data.describe(), (
        "docs/bundled-data.md is stale: paste `python -m scripts.describe_market_data` "
        "between its measured markers"
    )


def test_dataset_stays_small() -> None:
    assert DATA_PATH.stat().st_size <= 3_000_000
