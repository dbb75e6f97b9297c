"""What a client sees when Redis is down, emptied, or a scan's retention ended."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest

from coordinator.recover import recover
from tests.support import eventually, make_settings


async def test_redis_down_is_503_with_retry_after(make_api, redis_server, auth) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(make_settings(redis_url=redis_server.url))
    assert (await api.get("/readyz")).status == 200
    redis_server.stop()
    response = await api.get(f"/api/v1/scans/{'0' * 32}", headers=auth())
    assert response.status == 503
    assert response.headers["Retry-After"]
    assert (await response.json())["error"]["code"] == "redis_unavailable"
    assert (await api.get("/readyz")).status == 503
    assert (await api.get("/healthz")).status == 200
    # The feed answers the same before upgrading, not with a broken socket.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws_connect(f"/api/v1/scans/{'0' * 32}/ws", headers=auth())
    assert refused.value.status == 503


async def test_finished_scan_reads_expired_after_retention(make_api, api_settings, auth) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(msgspec.structs.replace(api_settings, result_retention_s=1))
    created = await (
        await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    ).json()
    path = f"/api/v1/scans/{created['scan_id']}"

    async def gone():  # type: ignore[no-untyped-def]
        response = await api.get(path, headers=auth())
        assert response.status in (200, 410), response.status
        return response if response.status == 410 else None

    response = await eventually(gone, timeout_s=10, what="retention to end")
    error = (await response.json())["error"]
    assert error["code"] == "expired" and error["details"]["status"] == "completed"
    assert (await api.get(path, headers=auth("mallory"))).status == 404


async def test_redis_emptied_fails_closed_until_recovery(
    make_api, api_settings, redis, auth
) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(api_settings)
    created = await (
        await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    ).json()
    await redis.flushall()  # stands in for a restart that lost the data

    async def closed():  # type: ignore[no-untyped-def]
        return (await api.get("/readyz")).status == 503

    await eventually(closed, what="readiness to fail closed")
    response = await api.get(f"/api/v1/scans/{created['scan_id']}", headers=auth())
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "redis_data_lost"
    post = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    assert post.status == 503
    await recover(api_settings.redis_url)

    async def open_again():  # type: ignore[no-untyped-def]
        return (await api.get("/readyz")).status == 200

    await eventually(open_again, what="service to resume after recovery")
    assert (
        await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    ).status == 202
