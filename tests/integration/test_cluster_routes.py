"""Every route on a three-master Redis Cluster: a command that crossed slots would
come back as a CROSSSLOT error (a 5xx) or a worker that never starts.

The 200-scan and kill -9 tests (test_multiworker, test_takeover) run on Cluster
too; this one covers what they do not: idempotent retries, listing, timeline,
cancel, the websocket feed (pub/sub on Cluster), the admin listings, the
compatibility routes, readiness, and the recovery command."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import WSMsgType

from coordinator.recover import recover
from tests.integration.client import TERMINAL, ScanClient, token_for, token_for_admin
from tests.redis_cluster import CLUSTER

pytestmark = pytest.mark.processes

USER = "cluster-user"
OTHER = "cluster-other"
STRATEGIES = ["noop", "sleep_500ms"]
# Long enough that the second scan is still running when it is cancelled.
SLOW = ["sleep_2s", "sleep_2s"]
FEED_TIMEOUT_S = 30.0


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


async def get_json(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    async with session.get(url, headers=headers) as response:
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("redis_topology", [CLUSTER], indirect=True)
async def test_every_route_on_cluster(start_service, service_redis_url, redis_topology) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=3)
    base = service.base_url
    client = ScanClient(base)
    async with aiohttp.ClientSession() as session:
        try:
            retry_key = {"Idempotency-Key": "cluster-retry-1", **auth(USER)}
            async with session.post(
                f"{base}/api/v1/scans", json={"strategies": STRATEGIES}, headers=retry_key
            ) as response:
                assert response.status == 202, await response.text()
                scan_id = (await response.json())["scan_id"]
            async with session.post(
                f"{base}/api/v1/scans", json={"strategies": STRATEGIES}, headers=retry_key
            ) as response:
                assert response.status == 200 and (await response.json())["scan_id"] == scan_id

            async with (
                asyncio.timeout(FEED_TIMEOUT_S),
                session.ws_connect(f"{base}/api/v1/scans/{scan_id}/ws", headers=auth(USER)) as ws,
            ):
                versions, last = [], None
                async for message in ws:
                    assert message.type == WSMsgType.TEXT, message
                    last = message.json()
                    versions.append(last["version"])
            assert last is not None and last["status"] in TERMINAL, last
            assert versions == sorted(versions), versions

            prefix = f"{base}/api/v1/scans"
            listed = await get_json(session, prefix, auth(USER))
            assert scan_id in str(listed)
            timeline = await get_json(session, f"{prefix}/{scan_id}/lifecycle", auth(USER))
            assert "finished" in str(timeline)
            results = await get_json(session, f"{prefix}/{scan_id}/results", auth(USER))
            assert len(results["opportunities"]) == 1
            compat = await get_json(
                session, f"{base}/api/v1/opportunities/status/{scan_id}", auth(USER)
            )
            assert compat["status"] == "complete", compat

            slow = await client.start(OTHER, SLOW)
            admin = {"Authorization": f"Bearer {token_for_admin('cluster-admin')}"}
            leases = await get_json(session, f"{base}/api/v1/admin/leases", admin)
            assert leases["live_scans"] >= 1, leases
            workers = await get_json(session, f"{base}/api/v1/admin/workers", admin)
            assert len(workers["workers"]) == 3, workers
            async with session.delete(f"{prefix}/{slow['scan_id']}", headers=auth(OTHER)) as r:
                assert r.status in (200, 202), await r.text()
            final = await client.follow(OTHER, slow["scan_id"], timeout_s=FEED_TIMEOUT_S)
            assert final["status"] == "cancelled", final

            ready = await get_json(session, f"{base}/readyz", {})
            assert ready["ready"], ready
            marker = await recover(service_redis_url)  # the operator's recovery command
            assert marker
        finally:
            await client.close()
    assert client.log.server_errors == 0 and client.log.not_found == 0
    errors = [line for line in service.log_lines() if line.get("level") == "error"]
    assert errors == [], errors[:3]
