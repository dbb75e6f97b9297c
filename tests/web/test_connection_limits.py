"""Per-user limits on long-lived connections: websockets beyond WS_PER_USER_MAX are
refused with 429 and Retry-After before the upgrade; requests beyond
WAITS_PER_USER_MAX that ask to wait (`Prefer: wait`) get 429 too; closing one frees
its slot; other users are not affected."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
import msgspec
import pytest

from strategies.diagnostic import DIAGNOSTIC
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider, eventually
from web.app import create_app
from web.keys import FEED

DEADLINE_S = 20.0
WS_MAX = 2
WAITS_MAX = 1


@pytest.fixture
async def limited(aiohttp_client, api_settings):  # type: ignore[no-untyped-def]
    """The app with limits of 2 websockets and 1 wait per user, and a `gated` strategy
    that keeps scans running until the test ends."""
    gate = threading.Event()

    def gated(snapshot):  # type: ignore[no-untyped-def]
        gate.wait(DEADLINE_S)
        return []

    registry = Registry([*DIAGNOSTIC, StrategySpec("gated", "waits for the test", gated)])
    settings = msgspec.structs.replace(
        api_settings, ws_per_user_max=WS_MAX, waits_per_user_max=WAITS_MAX, prefer_wait_max_s=20
    )
    app = create_app(settings, registry=registry, provider=StaticProvider())
    try:
        yield await aiohttp_client(app)
    finally:
        gate.set()


async def running_scan(api, auth, user: str = "alice") -> str:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", json={"strategies": ["gated"]}, headers=auth(user))
    assert response.status == 202
    return str((await response.json())["scan_id"])


async def open_socket(api, auth, scan_id: str, user: str = "alice"):  # type: ignore[no-untyped-def]
    ws = await api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth(user))
    assert (await ws.receive_json(timeout=DEADLINE_S))["scan_id"] == scan_id
    return ws


async def test_websockets_beyond_the_limit_are_refused_before_the_upgrade(limited, auth) -> None:  # type: ignore[no-untyped-def]
    api = limited
    scan_id = await running_scan(api, auth)
    sockets = [await open_socket(api, auth, scan_id) for _ in range(WS_MAX)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth())
    assert refused.value.status == 429
    assert int(refused.value.headers["Retry-After"]) >= 1
    plain = await api.get(
        f"/api/v1/scans/{scan_id}/ws",
        headers={**auth(), "Upgrade": "websocket", "Connection": "Upgrade"},
    )
    assert plain.status == 429
    assert (await plain.json())["error"]["code"] == "too_many_websockets"
    # Another user's sockets count apart.
    bob_socket = await open_socket(api, auth, await running_scan(api, auth, "bob"), "bob")
    # Closing one of alice's frees its slot.
    await sockets.pop().close()

    async def reopened():  # type: ignore[no-untyped-def]
        try:
            return await open_socket(api, auth, scan_id)
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 429
            return None

    sockets.append(await eventually(reopened, timeout_s=DEADLINE_S, what="a freed slot"))
    for ws in (*sockets, bob_socket):
        await ws.close()


async def test_waits_beyond_the_limit_are_refused_and_a_finished_wait_frees_its_slot(
    limited, auth
) -> None:  # type: ignore[no-untyped-def]
    api = limited
    scan_id = await running_scan(api, auth)
    path = f"/api/v1/scans/{scan_id}"

    async def settled() -> str | None:
        """The ETag once the gated strategy shows running: no newer version comes then."""
        response = await api.get(path, headers=auth())
        strategies = (await response.json())["strategies"]
        return response.headers["ETag"] if strategies[0]["status"] == "running" else None

    etag = await eventually(settled, timeout_s=DEADLINE_S, what="the scan running")
    long_poll = {**auth(), "If-None-Match": etag, "Prefer": "wait=20"}
    held = asyncio.ensure_future(api.get(path, headers=long_poll))

    async def waiting() -> bool:
        assert not held.done(), f"answered without waiting: {held.result().status}"
        return api.server.app[FEED].waiting == 1

    await eventually(waiting, timeout_s=DEADLINE_S, what="the long poll waiting")
    refused = await api.get(path, headers=long_poll)
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json())["error"]["code"] == "too_many_waits"
    post = await api.post("/api/v1/scans", json={}, headers={**auth(), "Prefer": "wait=5"})
    assert post.status == 429
    # A read without a wait is not limited; another user's wait is not either.
    assert (await api.get(path, headers=auth())).status == 200
    bob = await api.post(
        "/api/v1/scans", json={"strategies": ["noop"]}, headers={**auth("bob"), "Prefer": "wait=5"}
    )
    assert bob.status == 201
    # The held request ends (the scan is cancelled: a newer version) and frees its slot.
    assert (await api.delete(path, headers=auth())).status in (200, 202)
    assert (await asyncio.wait_for(held, DEADLINE_S)).status == 200
    again = await api.post(
        "/api/v1/scans", json={"strategies": ["noop"]}, headers={**auth(), "Prefer": "wait=5"}
    )
    assert again.status == 201
