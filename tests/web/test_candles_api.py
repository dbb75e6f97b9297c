"""GET /api/v1/scans/{id}/candles, in process on a real redis-server, over the
bundled data served by a source whose market moves on after the scan read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from config.settings import Settings
from strategies.catalog import CATALOG
from strategies.diagnostic import DIAGNOSTIC
from strategies.market_data import MarketSnapshot
from strategies.opportunity import significant
from strategies.registry import Registry
from strategies.rules import mean_reversion, pairs_trading
from strategies.sources.bundled import BundledProvider
from tests.web.test_scans_api import start, wait_terminal
from web.app import create_app
from web.charts import BARS_DEFAULT, BARS_MAX

HOUR_MS = 3_600_000
# The source's clock moves this far past what the scan read.
LATER_HOURS = 10
SYMBOL, OTHER = "BTC/USDT", "ETH/USDT"


class MovingProvider:
    """The bundled year, cut at a movable as-of: a source whose data grows after a
    scan (a live exchange, a files directory) must still chart the scan's candles."""

    source_name = "bundled-synthetic"

    def __init__(self) -> None:
        self.bundled = BundledProvider()
        self.full = self.bundled.snapshot_now(self.bundled.symbols())
        self.as_of_ms = self.full.as_of_ms - LATER_HOURS * HOUR_MS
        self.fetches = 0

    def symbols(self) -> tuple[str, ...]:
        return self.bundled.symbols()

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        self.fetches += 1
        wanted = tuple(symbols) or self.symbols()

        def cut(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {
                s: table[table[:, 0] <= self.as_of_ms] for s, table in series.items() if s in wanted
            }

        return replace(
            self.full,
            as_of_ms=self.as_of_ms,
            symbols=wanted,
            candles_1h=cut(self.full.candles_1h),
            candles_5m=cut(self.full.candles_5m),
            perp_1h=cut(self.full.perp_1h),
        )


@pytest.fixture
def provider() -> MovingProvider:
    return MovingProvider()


@pytest.fixture
async def chart_api(aiohttp_client, api_settings: Settings, provider: MovingProvider) -> TestClient:  # type: ignore[no-untyped-def]
    charted = [spec for spec in CATALOG if spec.name in (mean_reversion.NAME, pairs_trading.NAME)]
    registry = Registry([*DIAGNOSTIC, *charted], defaults=["noop"])
    app = create_app(api_settings, registry=registry, provider=provider)
    return await aiohttp_client(app)


async def finished_scan(api: TestClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    created = await start(api, headers, strategies=["noop"])
    return await wait_terminal(api, headers, created["scan_id"])


def candles_path(scan_id: str) -> str:
    return f"/api/v1/scans/{scan_id}/candles"


async def test_candles_end_at_the_scans_as_of_never_newer(chart_api, auth, provider) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    read_as_of = provider.as_of_ms
    provider.as_of_ms += LATER_HOURS * HOUR_MS  # the market moved on since the scan
    response = await chart_api.get(
        candles_path(scan["scan_id"]), params={"symbol": SYMBOL}, headers=auth()
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    times = [candle["time"] for candle in body["candles"]]
    assert len(times) == BARS_DEFAULT
    assert times == sorted(times)
    assert times[-1] * 1000 == read_as_of  # the scan's last bar, not the source's
    assert body["market_data_as_of"] == scan["market_data_as_of"]
    assert body["timeframe"] == "1h" and body["symbol"] == SYMBOL
    expected = provider.full.candles_1h[SYMBOL]
    last = expected[expected[:, 0] == read_as_of][0]
    shown = [body["candles"][-1][k] for k in ("open", "high", "low", "close", "volume")]
    assert shown == [significant(value) for value in last[1:]]


async def test_candles_are_the_owners_only(chart_api, auth) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth("alice"))
    path = candles_path(scan["scan_id"])
    theirs = await chart_api.get(path, params={"symbol": SYMBOL}, headers=auth("mallory"))
    unknown = await chart_api.get(
        candles_path("0" * 32), params={"symbol": SYMBOL}, headers=auth("mallory")
    )
    assert theirs.status == unknown.status == 404
    assert (await theirs.json())["error"]["code"] == (await unknown.json())["error"]["code"]
    assert (await chart_api.get(path, params={"symbol": SYMBOL})).status == 401


async def test_etag_answers_304_and_changes_with_the_query(chart_api, auth) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    path = candles_path(scan["scan_id"])
    first = await chart_api.get(path, params={"symbol": SYMBOL}, headers=auth())
    etag = first.headers["ETag"]
    again = await chart_api.get(
        path, params={"symbol": SYMBOL}, headers={**auth(), "If-None-Match": etag}
    )
    assert again.status == 304 and again.headers["ETag"] == etag
    assert await again.read() == b""
    other = await chart_api.get(
        path, params={"symbol": OTHER}, headers={**auth(), "If-None-Match": etag}
    )
    assert other.status == 200 and other.headers["ETag"] != etag
    assert "private" in first.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "invalid_symbol"),
        ({"symbol": SYMBOL, "timeframe": "1d"}, "invalid_timeframe"),
        ({"symbol": SYMBOL, "bars": str(BARS_MAX + 1)}, "invalid_query"),
        ({"symbol": SYMBOL, "bars": "0"}, "invalid_query"),
        ({"symbol": SYMBOL, "strategy": "no_such_rule"}, "invalid_strategy"),
    ],
)
async def test_bad_requests_are_422_with_a_clear_message(chart_api, auth, params, code) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    response = await chart_api.get(candles_path(scan["scan_id"]), params=params, headers=auth())
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == code and error["message"]


async def test_a_symbol_outside_the_scan_is_refused_naming_the_scans_symbols(
    chart_api, auth
) -> None:  # type: ignore[no-untyped-def]
    created = await start(chart_api, auth(), strategies=["noop"], symbols=[SYMBOL])
    await wait_terminal(chart_api, auth(), created["scan_id"])
    response = await chart_api.get(
        candles_path(created["scan_id"]), params={"symbol": OTHER}, headers=auth()
    )
    assert response.status == 404
    error = (await response.json())["error"]
    assert error["code"] == "symbol_not_in_scan"
    assert error["details"]["valid"] == [SYMBOL, f"{SYMBOL}:USDT"]


async def test_a_scan_without_market_data_yet_is_409(chart_api, auth, provider) -> None:  # type: ignore[no-untyped-def]
    created = await start(chart_api, auth(), strategies=["sleep_2s"])
    response = await chart_api.get(
        candles_path(created["scan_id"]), params={"symbol": SYMBOL}, headers=auth()
    )
    assert response.status == 409, await response.text()
    assert (await response.json())["error"]["code"] == "market_data_pending"


async def test_bars_bounds_the_answer(chart_api, auth) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    response = await chart_api.get(
        candles_path(scan["scan_id"]),
        params={"symbol": SYMBOL, "bars": str(BARS_MAX)},
        headers=auth(),
    )
    assert len((await response.json())["candles"]) == BARS_MAX


async def test_indicators_are_the_rules_own(chart_api, auth, provider) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    response = await chart_api.get(
        candles_path(scan["scan_id"]),
        params={"symbol": SYMBOL, "strategy": mean_reversion.NAME},
        headers=auth(),
    )
    body = await response.json()
    names = [series["name"] for series in body["indicators"]]
    assert names == ["bollinger_upper", "bollinger_middle", "bollinger_lower"]
    # The middle band at the last bar is the 20-bar mean of the closes the rule saw.
    closes = [candle["close"] for candle in body["candles"]]
    middle = body["indicators"][1]["points"]
    assert middle[-1]["time"] == body["candles"][-1]["time"]
    params = mean_reversion.DEFAULTS
    assert middle[-1]["value"] == pytest.approx(np.mean(closes[-params.band_period :]))
    assert all(series["pane"] == "price" for series in body["indicators"])


async def test_a_pairs_chart_has_the_spread_z_score_the_rule_trades_on(chart_api, auth) -> None:  # type: ignore[no-untyped-def]
    scan = await finished_scan(chart_api, auth())
    response = await chart_api.get(
        candles_path(scan["scan_id"]),
        params={"symbol": SYMBOL, "strategy": pairs_trading.NAME, "versus": OTHER},
        headers=auth(),
    )
    assert response.status == 200, await response.text()
    (spread,) = (await response.json())["indicators"]
    params = pairs_trading.DEFAULTS
    assert spread["pane"] == "oscillator"
    assert spread["levels"] == [
        -params.stop_z,
        -params.entry_z,
        params.exit_z,
        params.entry_z,
        params.stop_z,
    ]
    assert len(spread["points"]) == BARS_DEFAULT
