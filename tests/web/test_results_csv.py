"""Results as CSV: `Accept: text/csv` on GET /api/v1/scans/{id}/results (in process,
on a real redis-server), read back with Python's csv module as a spreadsheet would."""

from __future__ import annotations

import csv
import io
import json

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from config.settings import Settings
from strategies.diagnostic import DIAGNOSTIC
from strategies.findings import Findings
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Leg, Opportunity, OrderType
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider
from tests.web.test_scans_api import start, wait_terminal
from web.app import create_app
from web.csv_export import COLUMNS, cell, columns_of, opportunities_csv, wants_csv

# Everything CSV must escape, and a cell a spreadsheet would run as a formula.
AWKWARD = 'a "quoted" word, a comma,\na newline and a ü'
FORMULA = '=HYPERLINK("http://evil.example","click")'
PAIR_NOTE = "a pair exits on its spread's z-score, not a price"
PAIR_LEGS = (
    Leg(symbol="SOL/USDT", side="long", ratio=1.0, order_type=OrderType.MARKET, price=100.0),
    Leg(symbol="ETH/USDT", side="short", ratio=0.8, order_type=OrderType.MARKET, price=2000.0),
)


def awkward(snapshot: MarketSnapshot) -> Findings:
    common = {
        "strategy": "awkward",
        "side": "long",
        "entry": 100.0,
        "stop": 95.0,
        "target": 110.0,
        "confidence": 0.5,
        "expected_return": 0.1,
        "risk_reward": 2.0,
        "horizon": "1d",
        "data_source": snapshot.source,
        "as_of": "2026-01-01T00:00:00+00:00",
    }
    found = [
        Opportunity(symbol="BTC/USDT", rationale=AWKWARD, **common),  # type: ignore[arg-type]
        Opportunity(symbol="ETH/USDT", rationale=FORMULA, **common),  # type: ignore[arg-type]
        Opportunity(
            **{**common, "stop": None, "target": None},  # type: ignore[arg-type]
            symbol="SOL/USDT",
            rationale="a pair",
            levels_note=PAIR_NOTE,
            group_id="pair:SOL~ETH",
            legs=list(PAIR_LEGS),
        ),
    ]
    return Findings(opportunities=found, evaluated=len(found))


@pytest.fixture
async def csv_api(aiohttp_client, api_settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    registry = Registry([*DIAGNOSTIC, StrategySpec("awkward", "awkward text", awkward)])
    return await aiohttp_client(
        create_app(api_settings, registry=registry, provider=StaticProvider())
    )


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_results_as_csv_have_a_header_and_escape_text(csv_api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(csv_api, auth(), strategies=["awkward"])
    await wait_terminal(csv_api, auth(), created["scan_id"])
    path = f"/api/v1/scans/{created['scan_id']}/results"
    response = await csv_api.get(path, headers={**auth(), "Accept": "text/csv"})
    assert response.status == 200
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="scan-{created["scan_id"]}.csv"'
    )
    assert "Accept" in response.headers["Vary"]
    text = await response.text()
    header = text.split("\r\n", 1)[0]
    assert header.split(",") == [name for name, _field, _inner in COLUMNS]
    assert header.startswith("strategy,symbol,side,entry,stop,target,")
    rows = parse(text)
    as_json = (await (await csv_api.get(path, headers=auth())).json())["opportunities"]
    assert len(rows) == len(as_json) == 3
    by_symbol = {row["symbol"]: row for row in rows}
    pair = by_symbol["SOL/USDT"]
    assert pair["stop"] == pair["target"] == ""  # no such level: an empty cell
    assert pair["levels_note"] == PAIR_NOTE and pair["group_id"] == "pair:SOL~ETH"
    assert json.loads(pair["legs"]) == [msgspec.to_builtins(leg) for leg in PAIR_LEGS]
    assert json.loads(by_symbol["BTC/USDT"]["legs"]) == []
    assert by_symbol["BTC/USDT"]["rationale"] == AWKWARD  # quotes, comma, newline survive
    assert by_symbol["ETH/USDT"]["rationale"] == "'" + FORMULA  # never run as a formula
    for row, expected in zip(rows, as_json, strict=True):
        for name in ("entry", "stop", "target", "confidence", "expected_return"):
            assert (float(row[name]) if row[name] else None) == expected[name]


async def test_an_empty_result_is_the_header_alone(csv_api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(csv_api, auth(), strategies=["noop"])
    await wait_terminal(csv_api, auth(), created["scan_id"])
    response = await csv_api.get(
        f"/api/v1/scans/{created['scan_id']}/results", headers={**auth(), "Accept": "text/csv"}
    )
    assert await response.text() == ",".join(name for name, _f, _i in COLUMNS) + "\r\n"


async def test_csv_is_the_owners_only(csv_api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await start(csv_api, auth("alice"), strategies=["noop"])
    response = await csv_api.get(
        f"/api/v1/scans/{created['scan_id']}/results",
        headers={**auth("mallory"), "Accept": "text/csv"},
    )
    assert response.status == 404
    assert response.content_type == "application/json"


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        (None, False),
        ("text/csv", True),
        ("application/json", False),
        ("*/*", False),
        ("application/json, text/csv", False),
        ("text/csv, application/json;q=0.5", True),
        ("application/json;q=0.2, text/csv;q=0.9", True),
        ("text/csv;q=bogus, application/json", False),
        ("text/*", True),
    ],
)
def test_accept_negotiation(accept: str | None, csv_wanted: bool) -> None:
    assert wants_csv(accept) is csv_wanted


class Inner(msgspec.Struct):
    trades: int
    hit_rate: float | None


class Outer(msgspec.Struct):
    name: str
    legs: list[str]
    evidence: Inner | None


def test_a_nested_record_spreads_over_columns_and_a_list_is_one_cell() -> None:
    assert columns_of(Outer) == [
        ("name", "name", None),
        ("legs", "legs", None),
        ("evidence_trades", "evidence", "trades"),
        ("evidence_hit_rate", "evidence", "hit_rate"),
    ]
    assert cell(["a", "b"]) == '["a","b"]'
    assert cell(None) == ""


def test_missing_values_are_empty_and_leading_minus_text_is_quoted() -> None:
    row = {"strategy": "s", "symbol": "x", "side": "long", "rationale": "-1 below"}
    text = opportunities_csv([row])
    (parsed,) = parse(text)
    assert parsed["rationale"] == "'-1 below"
    assert parsed["entry"] == "" and parsed["stop"] == ""
