"""A long poll (`Prefer: wait` on a conditional GET) on a worker that does not own
the scan, while the owner is killed with kill -9: two services (one gunicorn worker
each) on one Redis. The poll must follow the scan through the takeover to its
terminal snapshot: versions only growing, never a 404 or a 5xx, the end published by
the new owner at a higher epoch."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest

from tests.integration.client import (
    TERMINAL,
    ScanClient,
    owner_pid,
    running_with_one_report,
    token_for,
)
from tests.support import eventually

pytestmark = pytest.mark.processes

USER = "poll-user"
LEASE_TTL_MS = 1500
# Still running when the owner dies; done in a few seconds once taken over.
STRATEGIES = ["noop", "sleep_2s", "sleep_2s"]
# Each poll may wait far longer than any gap between two versions of the scan (the
# takeover and the reclaim of its tasks take a few seconds): every answer is a 200.
WAIT_S = 20
FOLLOW_TIMEOUT_S = 60.0
WAITING_METRIC = "oppscan_waiting_requests"


async def long_poll_to_the_end(
    session: aiohttp.ClientSession, url: str, etag: str, answers: list[tuple[int, dict | None]]
) -> None:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token_for(USER)}", "Prefer": f"wait={WAIT_S}"}
    while True:
        async with session.get(url, headers={**headers, "If-None-Match": etag}) as response:
            body = await response.json() if response.status == 200 else None
            answers.append((response.status, body))
            if response.status == 304:
                continue
            if response.status != 200 or body is None:
                return
            etag = response.headers["ETag"]
            if body["status"] in TERMINAL:
                return


async def test_a_long_poll_follows_the_scan_through_a_kill_9_of_its_owner(start_service) -> None:  # type: ignore[no-untyped-def]
    first = start_service(workers=1, LEASE_TTL_MS=str(LEASE_TTL_MS))
    second = start_service(workers=1, LEASE_TTL_MS=str(LEASE_TTL_MS))
    client = ScanClient(first.base_url)
    session = aiohttp.ClientSession()
    answers: list[tuple[int, dict | None]] = []  # type: ignore[type-arg]
    poll: asyncio.Future[None] | None = None
    try:
        created = await client.start(USER, STRATEGIES)
        scan_id = created["scan_id"]
        body = await running_with_one_report(client, USER, scan_id)
        victim = owner_pid(body)
        # The scan is claimed by the process that created it: the first service's worker.
        assert victim in first.worker_pids(), (victim, first.worker_pids())
        url = f"{second.base_url}/api/v1/scans/{scan_id}"
        poll = asyncio.ensure_future(
            long_poll_to_the_end(session, url, f'"{body["version"]}"', answers)
        )

        async def waiting_on_second() -> bool:
            # The poll is parked in the second service when the owner dies.
            async with session.get(f"{second.base_url}/metrics") as response:
                text = await response.text()
            return f"{WAITING_METRIC} 1.0" in text.splitlines()

        await eventually(waiting_on_second, timeout_s=10, what="the poll waiting")
        first.signal_worker(victim, signal.SIGKILL)
        await asyncio.wait_for(poll, FOLLOW_TIMEOUT_S)
    finally:
        if poll is not None and not poll.done():
            poll.cancel()
        await session.close()
        await client.close()

    statuses = [status for status, _ in answers]
    assert set(statuses) == {200}, statuses
    bodies = [body for _, body in answers if body is not None]
    versions = [b["version"] for b in bodies]
    assert versions == sorted(set(versions)), f"versions not growing: {versions}"
    assert all(v > body["version"] for v in versions), (body["version"], versions)
    final = bodies[-1]
    assert final["status"] == "completed", final
    assert final["epoch"] > body["epoch"], "the end was not published by a new owner"
    assert owner_pid(final) != victim
