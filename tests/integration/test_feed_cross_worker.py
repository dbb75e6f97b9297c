"""The websocket feed on a worker that does not own the scan: two services
(one gunicorn worker each) on one Redis; the socket is opened on the one whose
coordinator is not the owner, and must still see every change in version order
and a normal close after the terminal snapshot."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from tests.integration.client import TERMINAL, ScanClient, token_for, token_for_admin
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

USER = "feed-user"
# Slow enough that the socket opens while the scan is running.
STRATEGIES = ["sleep_500ms", "sleep_500ms", "sleep_2s", "noop"]
FEED_TIMEOUT_S = 30.0


async def collect(ws: aiohttp.ClientWebSocketResponse) -> list[dict]:  # type: ignore[type-arg]
    received = []
    async for message in ws:
        assert message.type == WSMsgType.TEXT, message
        received.append(message.json())
    return received


def worker_pid_of(service: Service) -> int:
    """The pid of the service's one worker (/readyz names no worker: it tells a load
    balancer whether to send traffic, nothing about the host)."""
    (pid,) = service.worker_pids()
    return pid


async def owner_of(session: aiohttp.ClientSession, base_url: str, scan_id: str) -> str | None:
    headers = {"Authorization": f"Bearer {token_for_admin('feed-admin')}"}
    async with session.get(f"{base_url}/api/v1/admin/leases", headers=headers) as response:
        page = await response.json()
    for lease in page["leases"]:
        if lease["scan_id"] == scan_id and lease.get("worker_id"):
            return str(lease["worker_id"])
    return None


async def test_feed_on_a_worker_that_does_not_own_the_scan(start_service) -> None:  # type: ignore[no-untyped-def]
    first = start_service(workers=1)
    second = start_service(workers=1)
    client = ScanClient(first.base_url)
    session = aiohttp.ClientSession()
    try:
        workers = {worker_pid_of(first): first, worker_pid_of(second): second}
        scan_id = (await client.start(USER, STRATEGIES))["scan_id"]

        async def owner() -> str | None:
            return await owner_of(session, first.base_url, scan_id)

        owner_id = await eventually(owner, timeout_s=10, what="the scan's owner")
        owner_pid = int(owner_id.rsplit(":", 1)[1])
        assert owner_pid in workers, f"owner {owner_id} is neither service's worker"
        (non_owner,) = [service for pid, service in workers.items() if pid != owner_pid]

        url = f"{non_owner.base_url}/api/v1/scans/{scan_id}/ws?token={token_for(USER)}"
        async with session.ws_connect(url) as ws:
            received = await asyncio.wait_for(collect(ws), timeout=FEED_TIMEOUT_S)
            assert ws.close_code == WSCloseCode.OK
    finally:
        await session.close()
        await client.close()

    versions = [snapshot["version"] for snapshot in received]
    assert versions == sorted(set(versions)), f"versions out of order: {versions}"
    assert received[-1]["status"] in TERMINAL
    assert all(snapshot["status"] not in TERMINAL for snapshot in received[:-1])
    # It saw the scan running, not only its end: the feed followed it live.
    assert len(received) >= 2, received

    async def served_lines() -> list[dict[str, object]]:
        # The canonical line is written when the server's handler returns, just
        # after the close the client has already seen.
        return [
            line
            for line in non_owner.log_lines("http_request")
            if line.get("scan_id") == scan_id and str(line["route"]).endswith("/ws")
        ]

    served = await eventually(served_lines, timeout_s=5, what="the socket's request line")
    assert all(line["worker_id"] != owner_id for line in served)
