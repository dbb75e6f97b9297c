"""GET /api/v1/strategies/{name}/evaluation: a strategy's track record from the
evaluation stored in Redis (in process, on a real redis-server)."""

from __future__ import annotations

import pytest

from coordinator.store import keys
from coordinator.store.codec import msgpack_encoder
from strategies.diagnostic import DIAGNOSTIC
from strategies.evidence.records import Evaluation, Trade
from strategies.evidence.summary import evidence_of
from strategies.evidence.track_record import BINS, calibration_of, curve_of
from strategies.registry import Registry
from tests.support import AS_OF_MS, StaticProvider, eventually
from tests.web.test_results_order import SPEC, STRATEGY, evaluation_for
from web.app import create_app

HOUR_MS = 3_600_000
TRADES = 300
HELD_HOURS = 5
RISK_PCT = 2.0
# Two kinds of idea: near targets that hit 3 times in 4, far ones that hit 1 in 4.
NEAR_RR, FAR_RR = 0.5, 3.0


def trade(index: int) -> Trade:
    near = index % 2 == 0
    hit = (index % 8 < 6) if near else (index % 8 == 1)
    reward = RISK_PCT * (NEAR_RR if near else FAR_RR)
    net = reward if hit else -RISK_PCT
    signal = AS_OF_MS - (TRADES - index) * 10 * HOUR_MS
    return Trade(
        symbol="BTC/USDT",
        side="long",
        signal_ms=signal,
        entry_ms=signal + HOUR_MS,
        exit_ms=signal + HELD_HOURS * HOUR_MS,
        entry_price=100.0,
        exit_price=100.0 * (1 + net / 100),
        exit="target" if hit else "stop",
        risk_reward=NEAR_RR if near else FAR_RR,
        risk_pct=RISK_PCT,
        gross_pct=net,
        net_pct=net,
        fees_pct=0.0,
    )


TRADE_LIST = [trade(i) for i in range(TRADES)]


def evaluation_with_trades(settings) -> Evaluation:  # type: ignore[no-untyped-def]
    base = evaluation_for(settings)
    overall = evidence_of(TRADE_LIST, TRADE_LIST[0].signal_ms, TRADE_LIST[-1].exit_ms, 0.0)
    return Evaluation(
        **{
            **{f: getattr(base, f) for f in base.__struct_fields__},
            "overall": overall,
            "trades": TRADE_LIST,
            "trades_total": TRADES,
            "window_start_ms": TRADE_LIST[0].signal_ms,
            "window_end_ms": TRADE_LIST[-1].exit_ms,
            "worst_losing_run": 3,
        }
    )


@pytest.fixture
async def track_api(aiohttp_client, api_settings, redis):  # type: ignore[no-untyped-def]
    evaluation = evaluation_with_trades(api_settings)
    tag = keys.evidence_tag(
        evaluation.source, evaluation.data_version, STRATEGY, evaluation.fingerprint
    )
    await redis.set(keys.evidence_result(tag), msgpack_encoder.encode(evaluation))
    registry = Registry([SPEC, *DIAGNOSTIC])
    return await aiohttp_client(
        create_app(api_settings, registry=registry, provider=StaticProvider())
    )


def path(name: str) -> str:
    return f"/api/v1/strategies/{name}/evaluation"


async def ready_record(api, headers) -> dict:  # type: ignore[no-untyped-def,type-arg]
    async def probe():  # type: ignore[no-untyped-def]
        body = await (await api.get(path(STRATEGY), headers=headers)).json()
        return body if body["status"] == "ready" else None

    return await eventually(probe, what="the stored evaluation to be read")


async def test_the_track_record_is_the_stored_evaluations(track_api, auth) -> None:  # type: ignore[no-untyped-def]
    record = await ready_record(track_api, auth())
    assert record["trades_total"] == record["trades_shown"] == TRADES
    assert record["overall"]["trades"] == TRADES
    curve = record["curve"]
    assert [p["time"] for p in curve] == sorted(p["time"] for p in curve)
    assert len(curve) == TRADES
    assert curve[-1]["r"] == pytest.approx(sum(t.net_r for t in TRADE_LIST), abs=1e-3)
    bins = record["calibration"]
    assert len(bins) == BINS
    calibrated = sum(b["trades"] for b in bins)
    assert calibrated + record["uncalibrated"] == TRADES
    means = [b["predicted_mean"] for b in bins]
    assert means == sorted(means)
    for b in bins:
        assert b["realised"] == pytest.approx(b["hits"] / b["trades"], abs=1e-4)
        assert b["realised_low"] <= b["realised"] <= b["realised_high"]
        assert b["predicted_low"] <= b["predicted_mean"] <= b["predicted_high"]
    # Near targets hit far more often: the lowest stated probabilities (the far ones)
    # realise far less than the highest (the near ones), as stated.
    assert bins[0]["realised"] < 0.5 < bins[-1]["realised"]


async def test_etag_gives_304(track_api, auth) -> None:  # type: ignore[no-untyped-def]
    await ready_record(track_api, auth())
    first = await track_api.get(path(STRATEGY), headers=auth())
    again = await track_api.get(
        path(STRATEGY), headers={**auth(), "If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


async def test_unknown_unevaluated_and_unauthenticated(track_api, auth) -> None:  # type: ignore[no-untyped-def]
    unknown = await track_api.get(path("no_such_rule"), headers=auth())
    assert unknown.status == 404
    error = (await unknown.json())["error"]
    assert error["code"] == "unknown_strategy" and STRATEGY in error["details"]["valid"]
    diagnostic = await (await track_api.get(path("noop"), headers=auth())).json()
    assert diagnostic["status"] == "unavailable" and "not evaluated" in diagnostic["note"]
    assert diagnostic["curve"] == [] and diagnostic["calibration"] == []
    assert (await track_api.get(path(STRATEGY))).status == 401


def test_calibration_is_out_of_sample_and_the_curve_in_exit_order() -> None:
    bins, uncalibrated = calibration_of(TRADE_LIST)
    # The first trades have nothing closed before them: no probability was stated.
    assert uncalibrated > 0
    assert sum(b.trades for b in bins) == TRADES - uncalibrated
    shuffled = list(reversed(TRADE_LIST))
    assert curve_of(shuffled) == curve_of(TRADE_LIST)
