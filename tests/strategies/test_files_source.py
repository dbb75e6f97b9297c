"""The files source on freqtrade's layout: json, json.gz and csv; feather needs pyarrow."""

import gzip
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from structlog.testing import capture_logs

from strategies.catalog import CATALOG
from strategies.errors import MarketDataUnavailable, MissingDependency, UnknownSource, UnknownSymbol
from strategies.findings import SkipCode
from strategies.providers import build_provider
from strategies.sources.files import FilesProvider
from strategies.sources.validation import DataLimits
from tests.strategies.freqtrade_dir import freqtrade_directory, write_json
from tests.strategies.synthetic import candles, path

BARS = 300
HOUR_S = 3600
# Defaults of the settings: one hour of staleness allowed, a day of gap.
LIMITS = DataLimits(max_gap_s=24 * HOUR_S, stale_data_s=HOUR_S)


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
    # ETH stops two hours early: past STALE_DATA_S, so it is left out, not followed back.
    source = build_provider("files", latency_ms=0, files_dir=str(tmp_path), data_limits=LIMITS)
    assert source.symbols() == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    snap = await source.snapshot(())
    # One as-of for all: the latest hourly candle over the usable symbols.
    assert snap.as_of_ms == btc[-1, 0]
    assert all(table[-1, 0] <= snap.as_of_ms for table in snap.candles_1h.values())
    np.testing.assert_allclose(snap.candles_1h["BTC/USDT"], btc)
    np.testing.assert_allclose(snap.candles_1h["SOL/USDT"], btc[-50:])  # ISO dates parsed as UTC
    assert snap.perp_1h["BTC/USDT"][-1, 1] == pytest.approx(btc[-1, 4] * 1.001)
    assert snap.funding["BTC/USDT"][-1, 1] == 0.0001
    assert (
        snap.markets["BTC/USDT"]["taker"] == 0.0004 and snap.markets["SOL/USDT"]["taker"] == 0.001
    )
    assert snap.holdings == {"BTC/USDT": 0.1} and snap.source == "files"
    assert snap.symbols == ("BTC/USDT", "SOL/USDT") and "ETH/USDT" not in snap.candles_1h
    (stale,) = snap.excluded
    assert (stale.symbol, stale.code) == ("ETH/USDT", SkipCode.STALE_DATA)
    assert "ETH_USDT-1h.json.gz" in stale.message and "2 h before the as-of" in stale.message
    for spec in CATALOG:  # every strategy runs on the user's data through the same code path
        found = spec.run(snap)
        assert found.evaluated >= 1
        for opportunity in found.opportunities:
            assert opportunity.data_source == "files"


async def test_unknown_symbol(tmp_path: Path) -> None:
    write_user_data(tmp_path)
    with pytest.raises(UnknownSymbol):
        await build_provider(
            "files", latency_ms=0, files_dir=str(tmp_path), data_limits=LIMITS
        ).snapshot(["DOGE/USDT"])


def test_clear_errors_for_bad_configuration(tmp_path: Path) -> None:
    with pytest.raises(MarketDataUnavailable, match="MARKET_DATA_DIR"):
        build_provider("files", latency_ms=0, files_dir=None)
    with pytest.raises(MarketDataUnavailable, match="not a directory"):
        build_provider(
            "files", latency_ms=0, files_dir=str(tmp_path / "missing"), data_limits=LIMITS
        )
    with pytest.raises(MarketDataUnavailable, match="no hourly candle files"):
        build_provider("files", latency_ms=0, files_dir=str(tmp_path), data_limits=LIMITS)
    with pytest.raises(UnknownSource, match="bundled, files, ccxt"):
        build_provider("parquet", latency_ms=0, files_dir=None)


def test_feather_without_pyarrow_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (tmp_path / "BTC_USDT-1h.feather").write_bytes(b"ARROW1")
    with pytest.raises(MissingDependency, match="pyarrow"):
        build_provider("files", latency_ms=0, files_dir=str(tmp_path), data_limits=LIMITS)


def files_source(directory: Path) -> FilesProvider:
    source = build_provider("files", latency_ms=0, files_dir=str(directory), data_limits=LIMITS)
    assert isinstance(source, FilesProvider)
    return source


async def test_an_unusable_file_is_excluded_with_its_reason_on_every_scan(tmp_path: Path) -> None:
    spot = freqtrade_directory(tmp_path)
    text = (tmp_path / "SOL_USDT-1h.json").read_text()
    (tmp_path / "SOL_USDT-1h.json").write_text(text[: len(text) // 3])  # truncated
    broken = spot["BNB/USDT"].copy()
    broken[40, 2] = broken[40, 3] - 1  # a high below its low
    write_json(tmp_path / "BNB_USDT-1h.json.gz", broken)
    with capture_logs() as logs:
        source = files_source(tmp_path)  # boots: one bad file never stops the service
    assert source.symbols() == ("BNB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT")
    unusable = {
        line["file"]: line["problems"]
        for line in logs
        if line["event"] == "market_data_file_unusable"
    }
    assert set(unusable) == {"SOL_USDT-1h.json", "BNB_USDT-1h.json.gz"}
    for _ in range(2):  # every scan, not only the first
        snap = await source.snapshot(())
        assert snap.symbols == ("BTC/USDT", "ETH/USDT")
        assert set(snap.candles_1h) == {"BTC/USDT", "ETH/USDT"}
        skips = {skip.symbol: skip for skip in snap.excluded}
        assert {s.code for s in skips.values()} == {SkipCode.UNUSABLE_DATA}
        assert skips["SOL/USDT"].message.startswith("SOL_USDT-1h.json: not valid JSON at row ")
        assert skips["BNB/USDT"].message == (
            "BNB_USDT-1h.json.gz: row 41: high below max(open, close)"
        )
        assert snap.as_of_ms == spot["BTC/USDT"][-1, 0]
    # Asked for by name, an excluded symbol is not unknown: the scan hears why.
    only_btc = await source.snapshot(["BTC/USDT", "SOL/USDT"])
    assert only_btc.symbols == ("BTC/USDT",) and [s.symbol for s in only_btc.excluded] == [
        "SOL/USDT"
    ]
    with pytest.raises(MarketDataUnavailable, match=re.escape("SOL_USDT-1h.json: not valid JSON")):
        await source.snapshot(["SOL/USDT"])


async def test_a_symbol_ending_early_is_stale_and_never_moves_the_as_of_back(
    tmp_path: Path,
) -> None:
    spot = freqtrade_directory(tmp_path)
    write_json(tmp_path / "SOL_USDT-1h.json", spot["SOL/USDT"][:-120])  # ends five days early
    within = spot["BNB/USDT"][:-1]  # one hour behind: within STALE_DATA_S
    write_json(tmp_path / "BNB_USDT-1h.json.gz", within)
    with capture_logs() as logs:
        source = files_source(tmp_path)
    snap = await source.snapshot(())
    assert snap.as_of_ms == spot["BTC/USDT"][-1, 0]
    assert snap.symbols == ("BNB/USDT", "BTC/USDT", "ETH/USDT")
    np.testing.assert_array_equal(snap.candles_1h["BNB/USDT"], within)
    (stale,) = snap.excluded
    assert (stale.symbol, stale.code) == ("SOL/USDT", SkipCode.STALE_DATA)
    assert stale.message == (
        "SOL_USDT-1h.json: last row 2025-11-26 00:00 is 120 h before the as-of "
        "2025-12-01 00:00 (STALE_DATA_S=3600 s)"
    )
    assert [line["file"] for line in logs if line["event"] == "market_data_file_stale"] == [
        "SOL_USDT-1h.json"
    ]


async def test_a_file_in_seconds_is_read_in_seconds_not_as_1970(tmp_path: Path) -> None:
    spot = freqtrade_directory(tmp_path)
    in_seconds = spot["SOL/USDT"].copy()
    in_seconds[:, 0] /= 1000
    write_json(tmp_path / "SOL_USDT-1h.json", in_seconds)
    snap = await files_source(tmp_path).snapshot(())
    assert snap.as_of_ms == spot["BTC/USDT"][-1, 0] and not snap.excluded
    np.testing.assert_array_equal(snap.candles_1h["SOL/USDT"], spot["SOL/USDT"])


async def test_repairs_are_logged_and_served_repaired(tmp_path: Path) -> None:
    spot = freqtrade_directory(tmp_path)
    shuffled = np.concatenate(
        [spot["SOL/USDT"][200:], spot["SOL/USDT"][:200], spot["SOL/USDT"][:3]]
    )
    write_json(tmp_path / "SOL_USDT-1h.json", shuffled)
    with capture_logs() as logs:
        snap = await files_source(tmp_path).snapshot(["SOL/USDT"])
    np.testing.assert_array_equal(snap.candles_1h["SOL/USDT"], spot["SOL/USDT"])
    (repaired,) = [line for line in logs if line["event"] == "market_data_file_repaired"]
    assert repaired["file"] == "SOL_USDT-1h.json" and len(repaired["repairs"]) == 2


async def test_freqtrade_futures_layout_feeds_perpetuals_and_funding(tmp_path: Path) -> None:
    spot = freqtrade_directory(tmp_path)
    snap = await files_source(tmp_path).snapshot(())
    assert set(snap.perp_1h) == set(snap.funding) == {"BTC/USDT", "ETH/USDT"}
    assert snap.perp_1h["BTC/USDT"][-1, 1] == pytest.approx(spot["BTC/USDT"][-1, 4] * 1.0005)
    assert snap.funding["ETH/USDT"][-1, 0] == spot["ETH/USDT"][-1, 0]
    assert (snap.funding["BTC/USDT"][:, 1] < 0).any()  # the rate, from freqtrade's "open"
