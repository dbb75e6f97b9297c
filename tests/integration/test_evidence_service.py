"""Evidence across real worker processes: computed once per data version by one
worker (in a child process), read by every worker; a scan before it exists says
``computing`` instead of guessing, and later scans carry it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coordinator.store.redis_client import connect
from tests.integration.client import ScanClient
from tests.support import eventually

pytestmark = pytest.mark.processes

HOUR_MS = 3_600_000
BARS = 3000
USER = "evidence-user"
STRATEGY = "mean_reversion"
# The last bar of the first symbol falls 15 %: far below its lower Bollinger band,
# RSI14 under 30, so mean_reversion fires on it whatever came before.
LAST_DROP = 0.85
# The evaluation is small (two symbols, 3,000 hours); the child process's start is
# most of it. Generous for a loaded machine.
READY_TIMEOUT_S = 120.0


def write_candles(directory: Path, symbol: str, closes: np.ndarray) -> None:
    opens = np.concatenate([[closes[0]], closes[:-1]])
    highs = np.maximum(opens, closes) * 1.002
    lows = np.minimum(opens, closes) * 0.998
    stamps = 1_700_000_000_000 // HOUR_MS * HOUR_MS + HOUR_MS * np.arange(len(closes))
    rows = [
        [int(t), float(o), float(h), float(lo), float(c), 1000.0]
        for t, o, h, lo, c in zip(stamps, opens, highs, lows, closes, strict=True)
    ]
    (directory / f"{symbol.replace('/', '_')}-1h.json").write_text(json.dumps(rows))


def constructed_directory(directory: Path) -> Path:
    rng = np.random.default_rng(11)
    directory.mkdir()
    for index in range(2):
        closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.005, BARS)))
        if index == 0:
            closes[-1] = closes[-2] * LAST_DROP
        write_candles(directory, f"E{index}/USDT", closes)
    return directory


async def scan_once(client: ScanClient) -> dict:  # type: ignore[type-arg]
    created = await client.start(USER, [STRATEGY])
    await client.follow(USER, created["scan_id"], timeout_s=30)
    status, results = await client.results(USER, created["scan_id"])
    assert status == 200
    [opportunity] = results["opportunities"]
    return opportunity  # type: ignore[no-any-return]


async def test_evidence_is_computed_once_and_reaches_every_worker(start_service, tmp_path):
    data = constructed_directory(tmp_path / "data")
    service = start_service(
        workers=2, MARKET_DATA_SOURCE="files", MARKET_DATA_DIR=str(data), EVIDENCE_COMPUTE="1"
    )
    client = ScanClient(service.base_url)
    try:
        first = await scan_once(client)
        assert first["evidence_status"] == "computing", first
        assert first["probability"] is None and first["confidence"] is None
        assert first["expected_value_pct"] is None

        async def with_evidence() -> dict | None:  # type: ignore[type-arg]
            opportunity = await scan_once(client)
            return opportunity if opportunity["evidence_status"] == "ready" else None

        ready = await eventually(
            with_evidence, timeout_s=READY_TIMEOUT_S, interval_s=0.2, what="evidence"
        )
    finally:
        await client.close()
    assert ready["evidence_all"]["trades"] > 0
    assert ready["evidence"]["trades"] <= ready["evidence_all"]["trades"]
    assert ready["confidence"] == ready["probability"]
    # Computed once, by one worker, for the one data version: one stored evaluation.
    assert len(service.log_lines("evidence_computing")) == 1
    redis = connect(service.redis_url)
    try:
        stored = [key async for key in redis.scan_iter(match="os:{ev:*}:result")]
        assert len(stored) == 1
        assert [key async for key in redis.scan_iter(match="os:{ev:*}:lock")] == []
    finally:
        await redis.aclose()
