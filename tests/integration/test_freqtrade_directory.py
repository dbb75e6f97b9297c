"""A scan end to end on a data directory in freqtrade's exact layout (feather and json,
spot and futures, funding), built here from generated candles, served by the Procfile's
`web` process (gunicorn workers) on a real redis-server. One of its files is truncated:
the service still boots, every worker logs the file, and scans run on the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from strategies.catalog import CATALOG
from tests.integration.client import ScanClient
from tests.integration.service import Service
from tests.strategies.freqtrade_dir import freqtrade_directory

pytestmark = pytest.mark.processes

WORKERS = 2
SCAN_TIMEOUT_S = 60.0
AS_OF = "2025-12-01T00:00:00.000+00:00"
TRUNCATED = "BNB_USDT-1h.json.gz"


def layout(root: Path) -> Path:
    """``user_data/data/binance`` with one file cut short, as an interrupted download leaves it."""
    directory = root / "user_data" / "data" / "binance"
    directory.mkdir(parents=True)
    freqtrade_directory(directory, bars=500)
    data = (directory / TRUNCATED).read_bytes()
    (directory / TRUNCATED).write_bytes(data[: len(data) // 2])
    return directory


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def scan(
    client: ScanClient, user: str, symbols: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    async with client.session.post(
        f"{client.base_url}/api/v1/scans",
        json={"symbols": symbols} if symbols else {},
        headers=client.headers(user),
    ) as response:
        assert response.status == 202, await response.text()
        created = await response.json()
    final = await client.follow(user, created["scan_id"], timeout_s=SCAN_TIMEOUT_S)
    status, results = await client.results(user, created["scan_id"])
    assert status == 200, results
    return final, results


async def test_a_scan_runs_on_a_freqtrade_directory_with_a_truncated_file(
    start_service: Callable[..., Service], tmp_path: Path
) -> None:
    directory = layout(tmp_path)
    service = start_service(
        workers=WORKERS, MARKET_DATA_SOURCE="files", MARKET_DATA_DIR=str(directory)
    )
    unusable = service.log_lines("market_data_file_unusable")
    assert {line["file"] for line in unusable} == {TRUNCATED}
    assert len({line["worker_id"] for line in unusable}) == WORKERS  # every worker says so
    assert f"{TRUNCATED}: cannot be read" in json.dumps(unusable[0]["problems"])
    client = ScanClient(service.base_url)
    try:
        final, results = await scan(client, "trader", [])
        # Named explicitly, the broken symbol is known (not a 422): it is left out, the rest run.
        named, _ = await scan(client, "trader-2", ["BNB/USDT", "ETH/USDT"])
        # Alone, there is nothing to scan: every strategy fails saying which file and why.
        alone, _ = await scan(client, "trader-3", ["BNB/USDT"])
    finally:
        await client.close()
    assert final["status"] == "completed" and named["status"] == "completed"
    assert final["progress"]["total_strategies"] == len(CATALOG)
    assert results["data_source"] == "files" and results["market_data_as_of"] == AS_OF
    assert {o["symbol"] for o in results["opportunities"]} <= {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert all(instant(o["as_of"]) == instant(AS_OF) for o in results["opportunities"])
    assert alone["status"] == "failed"
    assert all(
        s["status"] == "failed" and f"{TRUNCATED}: cannot be read" in s["error"]
        for s in alone["strategies"]
    )
    # Every strategy of the scans that ran says it skipped the broken symbol, and why.
    for snapshot in (final, named):
        for state in snapshot["strategies"]:
            assert state["skipped_counts"].get("unusable_data") == 1, state
            [skip] = [s for s in state["skipped"] if s["code"] == "unusable_data"]
            assert skip["symbol"] == "BNB/USDT" and TRUNCATED in skip["message"], skip
            assert state["evaluated"] >= 1, state
