"""Results carry the evidence a worker read from Redis, ranked by expected value by
default; ``?sort=`` picks probability or the old distance-to-target order."""

from __future__ import annotations

import pytest

from coordinator.service.evidence import EvidenceBook
from coordinator.store import keys
from coordinator.store.codec import msgpack_encoder
from strategies.evidence import compute
from strategies.evidence.fingerprint import fingerprint
from strategies.evidence.records import Calibration, Cell, Evaluation
from strategies.evidence.summary import evidence_of
from strategies.findings import Findings
from strategies.market_data import MarketSnapshot
from strategies.opportunity import make_opportunity
from strategies.registry import Registry, StrategySpec
from tests.support import AS_OF_MS, StaticProvider, eventually
from tests.web.test_scans_api import start, wait_terminal
from web.app import create_app
from web.keys import COORDINATOR

STRATEGY = "trend_momentum"  # an evaluated name, served here by a constructed rule
# (stop distance %, target distance %): risk/reward 0.5, 1 and 4.
LEVELS = {"near": (2.0, 1.0), "even": (2.0, 2.0), "far": (2.0, 8.0)}


def constructed(snapshot: MarketSnapshot) -> Findings:
    found = [
        make_opportunity(
            strategy=STRATEGY,
            symbol="BTC/USDT",
            side="long",
            entry=100.0,
            stop=100.0 - stop,
            target=100.0 + target,
            confidence=0.9,
            horizon="1 day",
            horizon_bars=24,
            rationale=name,
            data_source=snapshot.source,
            as_of="",
            id_suffix=name,
        )
        for name, (stop, target) in LEVELS.items()
    ]
    return Findings(opportunities=found, evaluated=1)


SPEC = StrategySpec(STRATEGY, "constructed", constructed)


def evaluation_for(settings) -> Evaluation:
    """Longs hit 80 % of the time at risk/reward below 0.75, 50 % at 1, 10 % at 2.5+."""
    cells = [
        Cell("long", band, 100, hits, -1.0 * (100 - hits))
        for band, hits in ((0, 80), (1, 50), (3, 10))
    ]
    overall = evidence_of([], AS_OF_MS, AS_OF_MS, 0.1)
    return Evaluation(
        strategy=STRATEGY,
        source=StaticProvider.source_name,
        data_version=StaticProvider().data_version(),
        fingerprint=fingerprint(SPEC, compute.config_of(settings)),
        status="ready",
        overall=overall,
        per_symbol={"BTC/USDT": overall},
        calibration=Calibration(
            band_edges=[0.75, 1.5, 2.5],
            prior_strength=20.0,
            trades=300,
            hits=140,
            miss_r_sum=-160.0,
            cells=cells,
        ),
    )


@pytest.fixture
async def evidence_api(aiohttp_client, api_settings, redis):
    evaluation = evaluation_for(api_settings)
    tag = keys.evidence_tag(
        evaluation.source, evaluation.data_version, STRATEGY, evaluation.fingerprint
    )
    await redis.set(keys.evidence_result(tag), msgpack_encoder.encode(evaluation))
    app = create_app(api_settings, registry=Registry([SPEC]), provider=StaticProvider())
    return await aiohttp_client(app)


async def scan_results(api, headers, query: str = "") -> dict:
    created = await start(api, headers, strategies=[STRATEGY], symbols=["BTC/USDT"])
    await wait_terminal(api, headers, created["scan_id"])
    response = await api.get(f"/api/v1/scans/{created['scan_id']}/results{query}", headers=headers)
    assert response.status == 200
    return await response.json()


async def test_results_rank_by_expected_value_once_evidence_is_read(evidence_api, auth):
    first = await scan_results(evidence_api, auth())
    # The first run of the strategy on this worker had no evidence yet: it says so.
    assert {o["evidence_status"] for o in first["opportunities"]} == {"computing"}
    assert all(o["probability"] is None for o in first["opportunities"])
    book: EvidenceBook = evidence_api.app[COORDINATOR].evidence
    await eventually(lambda: _has(book), what="the worker to read the stored evaluation")

    results = await scan_results(evidence_api, auth())
    rows = results["opportunities"]
    assert [o["rationale"] for o in rows] == ["near", "even", "far"]
    values = [o["expected_value_pct"] for o in rows]
    assert values == sorted(values, reverse=True)
    assert all(o["evidence_status"] == "ready" for o in rows)
    assert all(o["confidence"] == o["probability"] for o in rows)
    assert rows[0]["probability"] > rows[1]["probability"] > rows[2]["probability"]

    scan_id = results["scan_id"]
    by_target = await (
        await evidence_api.get(f"/api/v1/scans/{scan_id}/results?sort=target", headers=auth())
    ).json()
    assert [o["rationale"] for o in by_target["opportunities"]] == ["far", "even", "near"]
    by_probability = await (
        await evidence_api.get(f"/api/v1/scans/{scan_id}/results?sort=probability", headers=auth())
    ).json()
    probabilities = [o["probability"] for o in by_probability["opportunities"]]
    assert probabilities == sorted(probabilities, reverse=True)


async def _has(book: EvidenceBook) -> bool:
    return STRATEGY in book.evaluations


async def test_an_unknown_sort_is_a_422_naming_the_valid_ones(api, auth):
    created = await start(api, auth(), strategies=["noop"], symbols=["ETH/USDT"])
    response = await api.get(
        f"/api/v1/scans/{created['scan_id']}/results?sort=best", headers=auth()
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_query"
    assert "expected_value, probability, target" in error["message"]
