"""The `worker` process type adds strategy capacity and scan ownership without HTTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.client import ScanClient
from tests.support import eventually

pytestmark = pytest.mark.processes

SCANS = 30


async def test_worker_process_runs_strategies_and_stops_cleanly(
    start_service, start_worker
) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=1)
    worker = start_worker()
    log_path = worker.log_path

    def worker_log_has(event: str) -> bool:
        return f'"event": "{event}"' in log_path.read_text(errors="replace")

    await eventually(
        lambda: asyncio.sleep(0, worker_log_has("coordinator_started")),
        timeout_s=30,
        what="worker process up",
    )
    client = ScanClient(service.base_url)
    try:
        created = [await client.start(f"user-{i}", ["sleep_100ms", "noop"]) for i in range(SCANS)]
        finals = [
            await client.follow(f"user-{i}", c["scan_id"], timeout_s=30)
            for i, c in enumerate(created)
        ]
    finally:
        await client.close()
    assert all(final["status"] == "completed" for final in finals)
    assert worker_log_has("strategy_run"), "the worker process ran no strategy"
    assert worker.stop() == 0
    assert worker_log_has("coordinator_stopped")
