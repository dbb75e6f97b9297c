"""The ccxt source's parsing, on recorded ccxt-shaped responses (no network here)."""

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from strategies.errors import MissingDependency, UnknownSymbol
from strategies.providers import build_provider
from strategies.sources.ccxt_live import HOUR_MS, CcxtProvider, last_closed_hour

RECORDED: dict[str, Any] = json.loads(
    (Path(__file__).with_name("fixtures") / "ccxt" / "binance.json").read_text()
)
FIRST_BAR_MS = RECORDED["ohlcv"]["BTC/USDT 1h"][0][0]
# The clock reads 30 minutes into the bar after the fifth: bars 0-4 are closed, bar 5 is not.
NOW_S = (FIRST_BAR_MS + 5 * HOUR_MS + HOUR_MS // 2) / 1000


class RecordedExchange:
    """Serves the recorded responses with ccxt's paging semantics (since, limit)."""

    def __init__(self, page_limit: int = 1000) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.page_limit = page_limit
        self.closed = False

    async def load_markets(self) -> dict[str, Any]:
        self.calls.append(("load_markets",))
        markets: dict[str, Any] = RECORDED["markets"]
        return markets

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int, limit: int
    ) -> list[list[Any]]:
        self.calls.append(("fetch_ohlcv", symbol, timeframe))
        rows = [row for row in RECORDED["ohlcv"][f"{symbol} {timeframe}"] if row[0] >= since]
        return rows[: min(limit, self.page_limit)]

    async def fetch_funding_rate_history(
        self, symbol: str, since: int, limit: int
    ) -> list[dict[str, Any]]:
        self.calls.append(("fetch_funding_rate_history", symbol))
        records: list[dict[str, Any]] = RECORDED["funding_rate_history"][symbol]
        return records

    async def close(self) -> None:
        self.closed = True


def provider(exchange: RecordedExchange) -> CcxtProvider:
    return CcxtProvider("binance", ("BTC/USDT", "ETH/USDT"), exchange=exchange, clock=lambda: NOW_S)


async def test_parses_recorded_responses_into_one_consistent_snapshot() -> None:
    snap = await provider(RecordedExchange()).snapshot(())
    as_of = last_closed_hour(NOW_S * 1000)
    assert snap.source == "ccxt:binance" and snap.as_of_ms == as_of == FIRST_BAR_MS + 4 * HOUR_MS
    btc = snap.candles_1h["BTC/USDT"]
    assert btc.shape == (5, 6)  # duplicate dropped, unclosed bar cut
    assert np.all(np.diff(btc[:, 0]) == HOUR_MS) and btc[2, 5] == 0.0  # None volume -> 0
    assert btc[-1, 4] == RECORDED["ohlcv"]["BTC/USDT 1h"][5][4]  # row 5 of the recording is bar 4
    assert snap.candles_5m["BTC/USDT"][-1, 0] <= as_of
    assert snap.perp_1h["BTC/USDT"].shape == (5, 2)
    assert snap.funding["BTC/USDT"][:, 1] == pytest.approx(
        [0.0003, 0.0002, 0.0001]
    )  # a None rate is dropped
    assert "ETH/USDT" not in snap.perp_1h and "ETH/USDT" not in snap.funding  # no ETH perp listed
    assert (
        snap.markets["BTC/USDT"]["taker"] == 0.001
        and snap.markets["BTC/USDT"]["precision"]["price"] == 0.01
    )
    with pytest.raises(ValueError, match="read-only"):
        btc[0, 4] = 1.0


async def test_fetches_once_per_as_of_hour_and_pages() -> None:
    exchange = RecordedExchange(page_limit=2)
    source = provider(exchange)
    first, second = (
        await source.snapshot(["BTC/USDT"]),
        await source.snapshot(["ETH/USDT", "BTC/USDT"]),
    )
    assert first.candles_1h["BTC/USDT"] is second.candles_1h["BTC/USDT"] or np.array_equal(
        first.candles_1h["BTC/USDT"], second.candles_1h["BTC/USDT"]
    )
    assert exchange.calls.count(("load_markets",)) == 1
    assert exchange.calls.count(("fetch_ohlcv", "BTC/USDT", "1h")) >= 3  # 7 rows in pages of 2
    await source.aclose()
    assert exchange.closed


async def test_unknown_symbol_lists_the_configured_ones() -> None:
    with pytest.raises(UnknownSymbol) as raised:
        await provider(RecordedExchange()).snapshot(["DOGE/USDT"])
    assert raised.value.valid == ("BTC/USDT", "ETH/USDT")


def test_missing_ccxt_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ccxt", None)
    monkeypatch.setitem(sys.modules, "ccxt.async_support", None)
    with pytest.raises(MissingDependency, match=r"\[live\]"):
        build_provider("ccxt", latency_ms=0, files_dir=None)
