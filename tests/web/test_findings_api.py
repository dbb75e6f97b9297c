"""What the API says about what strategies found, on constructed market data:
skips per strategy in the snapshot (the source's exclusions in every one), the
order fields of multi-leg ideas in the results, and the old routes' shape."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from strategies.findings import Skip, SkipCode
from strategies.market_data import MarketSnapshot
from strategies.registry import build_registry
from tests.strategies.synthetic import END_MS, candles, snapshot
from tests.strategies.test_pairs_trading import cointegrated
from tests.web.test_scans_api import start, wait_terminal
from web.app import create_app

STRATEGIES = ["pairs_trading", "trend_momentum", "funding_carry"]
EXCLUDED = Skip(
    symbol="BAD/USDT",
    code=SkipCode.UNUSABLE_DATA,
    message="BAD_USDT-1h.json row 12: high below low",
)
V1_FIELDS = {
    "strategy", "symbol", "side", "entry", "stop", "target", "confidence", "expected_return",
    "risk_reward", "horizon", "rationale", "data_source", "as_of",
}  # fmt: skip


class ConstructedProvider:
    """A cointegrated pair at a 2.8-sigma spread, a short history, and a symbol
    the source excluded (its file unusable)."""

    source_name = "test-constructed"

    def __init__(self) -> None:
        log_x, log_y = cointegrated(z_shock=2.8)
        built = snapshot(
            {
                "X/USDT": candles(np.exp(log_x), half_range=0.0),
                "Y/USDT": candles(np.exp(log_y), half_range=0.0),
                "NEW/USDT": candles(np.full(50, 10.0)),
            }
        )
        self._snapshot = MarketSnapshot(
            source=built.source,
            as_of_ms=END_MS,
            symbols=(*built.symbols, "BAD/USDT"),
            candles_1h=built.candles_1h,
            excluded=(EXCLUDED,),
        )

    def symbols(self) -> tuple[str, ...]:
        return self._snapshot.symbols

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        return self._snapshot


@pytest.fixture
async def constructed_api(aiohttp_client, api_settings) -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(
        api_settings,
        registry=build_registry(include_diagnostic=False),
        provider=ConstructedProvider(),
    )
    return await aiohttp_client(app)


async def test_findings_reach_the_snapshot_results_and_old_routes(constructed_api, auth) -> None:  # type: ignore[no-untyped-def]
    api = constructed_api
    created = await start(api, auth(), strategies=STRATEGIES)
    final = await wait_terminal(api, auth(), created["scan_id"])
    assert final["status"] == "completed"
    states = {state["name"]: state for state in final["strategies"]}
    for state in states.values():  # the excluded symbol is every strategy's skip
        assert state["skipped"][0] == {
            "symbol": "BAD/USDT",
            "code": "unusable_data",
            "message": EXCLUDED.message,
        }
        assert state["evaluated"] == 4
    assert states["trend_momentum"]["skipped_counts"] == {
        "no_signal": 2,
        "insufficient_history": 1,
        "unusable_data": 1,
    }
    assert states["funding_carry"]["skipped_counts"] == {"no_perpetual": 3, "unusable_data": 1}
    assert states["pairs_trading"]["opportunities"] == 1
    assert states["pairs_trading"]["skipped_counts"] == {
        "insufficient_history": 1,
        "unusable_data": 1,
    }

    results = await (
        await api.get(f"/api/v1/scans/{created['scan_id']}/results", headers=auth())
    ).json()
    [pair] = results["opportunities"]
    assert pair["stop"] is None and pair["target"] is None
    assert pair["levels_note"].startswith("a pair exits on its spread's z-score")
    assert (pair["action"], pair["order_type"], pair["horizon_bars"]) == (
        "open_short",
        "market",
        120,
    )
    assert pair["group_id"] == "pairs_trading:Y/USDT~X/USDT" and pair["conflicts"] == []
    assert [(leg["symbol"], leg["side"]) for leg in pair["legs"]] == [
        ("Y/USDT", "short"),
        ("X/USDT", "long"),
    ]

    old = await (
        await api.get(f"/api/v1/opportunities/results/{created['scan_id']}", headers=auth())
    ).json()
    [old_pair] = old["opportunities"]
    assert set(old_pair) == V1_FIELDS  # the replaced system's shape, nothing added
    assert old_pair["stop"] is None and old_pair["entry"] == pair["entry"]
