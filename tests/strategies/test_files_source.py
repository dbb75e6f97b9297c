"""The files source on freqtrade's layout: json, json.gz and csv; feather needs pyarrow."""

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from strategies.catalog import CATALOG
from strategies.errors import MarketDataUnavailable, MissingDependency, UnknownSource, UnknownSymbol
from strategies.providers import build_provider
from tests.strategies.synthetic import candles, path

BARS = 300


def write_user_data(directory: Path) -> np.ndarray:
    btc = candles(path((BARS - 1, 10.0), start=90_000.0), half_range=40.0)
    eth = candles(path((BARS - 1, -0.5), start=3_000.0), half_range=3.0)[
        :-2
    ]  # ends two hours earlier
    (directory / "BTC_USDT-1h.json").write_text(json.dumps(btc.tolist()))
    with gzip.open(directory / "ETH_USDT-1h.json.gz", "wt") as handle:
        json.dump(eth.tolist(), handle)
    header = "date,open,high,low,close,volume\n"
    rows = [
        f"{datetime.fromtimestamp(r[0] / 1000, UTC).isoformat()},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]}"
        for r in btc[-50:]
    ]
    (directory / "SOL_USDT-1h.csv").write_text(header + "\n".join(rows) + "\n")
    futures = directory / "futures"
    futures.mkdir()
    perp = btc.copy()
    perp[:, 1:5] *= 1.001
    (futures / "BTC_USDT_USDT-1h-futures.json").write_text(json.dumps(perp.tolist()))
    funding = [[ms, 0.0001, 0.0001, 0.0001, 0.0001, 0.0] for ms in btc[::8, 0]]
    (futures / "BTC_USDT_USDT-8h-funding_rate.json").write_text(json.dumps(funding))
    (directory / "markets.json").write_text(
        json.dumps({"BTC/USDT": {"maker": 0.0002, "taker": 0.0004}})
    )
    (directory / "holdings.json").write_text(json.dumps({"BTC/USDT": 0.1}))
    return btc


async def test_reads_a_freqtrade_directory(tmp_path: Path) -> None:
    btc = write_user_data(tmp_path)
    source = build_provider("files", latency_ms=0, files_dir=str(tmp_path))
    assert source.symbols() == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    snap = await source.snapshot(())
    # One as-of for all: the latest hour every symbol has (ETH stops two hours early).
    assert snap.as_of_ms == btc[-3, 0]
    assert all(table[-1, 0] <= snap.as_of_ms for table in snap.candles_1h.values())
    np.testing.assert_allclose(snap.candles_1h["BTC/USDT"], btc[:-2])
    np.testing.assert_allclose(snap.candles_1h["SOL/USDT"], btc[-50:-2])  # ISO dates parsed as UTC
    assert snap.perp_1h["BTC/USDT"][-1, 1] == pytest.approx(btc[-3, 4] * 1.001)
    assert snap.funding["BTC/USDT"][-1, 1] == 0.0001
    assert (
        snap.markets["BTC/USDT"]["taker"] == 0.0004 and snap.markets["ETH/USDT"]["taker"] == 0.001
    )
    assert snap.holdings == {"BTC/USDT": 0.1} and snap.source == "files"
    for spec in CATALOG:  # every strategy runs on the user's data through the same code path
        found = spec.run(snap)
        assert found.evaluated >= 1
        for opportunity in found.opportunities:
            assert opportunity.data_source == "files"


async def test_unknown_symbol(tmp_path: Path) -> None:
    write_user_data(tmp_path)
    with pytest.raises(UnknownSymbol):
        await build_provider("files", latency_ms=0, files_dir=str(tmp_path)).snapshot(["DOGE/USDT"])


def test_clear_errors_for_bad_configuration(tmp_path: Path) -> None:
    with pytest.raises(MarketDataUnavailable, match="MARKET_DATA_DIR"):
        build_provider("files", latency_ms=0, files_dir=None)
    with pytest.raises(MarketDataUnavailable, match="not a directory"):
        build_provider("files", latency_ms=0, files_dir=str(tmp_path / "missing"))
    with pytest.raises(MarketDataUnavailable, match="no hourly candle files"):
        build_provider("files", latency_ms=0, files_dir=str(tmp_path))
    with pytest.raises(UnknownSource, match="bundled, files, ccxt"):
        build_provider("parquet", latency_ms=0, files_dir=None)


def test_feather_without_pyarrow_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (tmp_path / "BTC_USDT-1h.feather").write_bytes(b"ARROW1")
    with pytest.raises(MissingDependency, match="pyarrow"):
        build_provider("files", latency_ms=0, files_dir=str(tmp_path))
