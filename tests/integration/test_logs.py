"""Structured logs of real worker processes: JSON lines; every line of a
scan's life carries scan_id, epoch and worker_id; one canonical line per HTTP
request; no token ever reaches a log."""

from __future__ import annotations

import pytest

from tests.integration.client import ScanClient, token_for

pytestmark = pytest.mark.processes

USERS = ["log-user-0", "log-user-1", "log-user-2"]
# One that fails, so the failure path's lines are checked too.
STRATEGIES = ["noop", "sleep_100ms", "explode"]
FOLLOW_TIMEOUT_S = 30.0
# Lines about one scan carry these, however they were produced.
SCAN_FIELDS = ("scan_id", "epoch", "worker_id")


async def test_scan_lines_carry_scan_epoch_and_worker_and_no_token(start_service) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=2)
    client = ScanClient(service.base_url)
    try:
        scan_ids = [(await client.start(user, STRATEGIES))["scan_id"] for user in USERS]
        for user, scan_id in zip(USERS, scan_ids, strict=True):
            await client.follow(user, scan_id, timeout_s=FOLLOW_TIMEOUT_S)
    finally:
        await client.close()

    # Workers may still be writing (request lines): a line cut mid-write is skipped.
    lines = service.log_lines()
    assert lines, "no JSON log lines"
    for user in USERS:
        assert token_for(user) not in service.log_path.read_text(), "a token reached the log"

    about_scans = [
        line
        for line in lines
        if line.get("scan_id") in scan_ids and line.get("event") != "http_request"
    ]
    events = {line["event"] for line in about_scans}
    # The whole life: owner started, strategies ran (one failed), scan finished.
    for expected in ("scan_actor_started", "strategy_run", "strategy_failed", "scan_finished"):
        assert expected in events, f"no {expected} line; saw {sorted(events)}"
    missing = [line for line in about_scans if any(line.get(name) is None for name in SCAN_FIELDS)]
    assert not missing, f"scan lines without {SCAN_FIELDS}: {missing[:3]}"

    requests = [line for line in lines if line.get("event") == "http_request"]
    starts = [line for line in requests if line["method"] == "POST"]
    assert len(starts) == len(USERS), "one canonical line per request"
    reads = [line for line in requests if line["route"] == "/api/v1/scans/{scan_id}"]
    assert reads and all(line["scan_id"] in scan_ids for line in reads)
    assert all("duration_ms" in line and "status" in line for line in requests)
