"""The websocket feed: snapshots in version order, a normal close after the
terminal one, policy-violation for another user's scan, survives a killed
pub/sub connection, and serves many sockets on one scan."""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec
from aiohttp import WSCloseCode, WSMsgType

from web.auth import mint_token
from web.feed import Frame
from web.websocket import FEED, FeedSocket

TERMINAL = {"completed", "partial", "failed", "cancelled"}


async def start(api, auth, strategies: list[str]) -> str:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", json={"strategies": strategies}, headers=auth())
    assert response.status == 202
    return (await response.json())["scan_id"]


async def collect(ws) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    received = []
    async for message in ws:
        assert message.type == WSMsgType.TEXT
        received.append(message.json())
    return received


async def followed_to_its_end(api, auth, strategies: list[str]) -> tuple[str, list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    """A new scan's snapshots, read on its socket until it closes: in version order, the
    last one completed, then a normal close."""
    scan_id = await start(api, auth, strategies)
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth()) as ws:
        received = await asyncio.wait_for(collect(ws), timeout=20)
        assert ws.close_code == WSCloseCode.OK
    versions = [snapshot["version"] for snapshot in received]
    assert versions == sorted(set(versions)), versions
    assert received[-1]["status"] == "completed"
    return scan_id, received


async def test_snapshots_arrive_in_version_order_then_a_normal_close(api, auth) -> None:  # type: ignore[no-untyped-def]
    scan_id, received = await followed_to_its_end(api, auth, ["noop", "sleep_100ms", "sleep_500ms"])
    assert all(snapshot["status"] not in TERMINAL for snapshot in received[:-1])
    rest = await (await api.get(f"/api/v1/scans/{scan_id}", headers=auth())).json()
    assert rest["version"] == received[-1]["version"]


async def test_a_scan_that_already_ended_gets_its_last_snapshot_and_nothing_to_follow(
    api, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    scan_id = await start(api, auth, ["noop"])
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth()) as ws:
        await asyncio.wait_for(collect(ws), timeout=20)  # followed to its end
    hub = api.server.app[FEED]
    followed: list[str] = []
    follow = hub.follow
    monkeypatch.setattr(
        hub, "follow", lambda scan_id, *rest: followed.append(scan_id) or follow(scan_id, *rest)
    )
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth()) as ws:
        received = await asyncio.wait_for(collect(ws), timeout=20)
        assert ws.close_code == WSCloseCode.OK
    assert [snapshot["status"] for snapshot in received] == ["completed"]
    assert followed == [], "a finished scan was followed"


async def test_token_in_query_or_subprotocol_is_accepted(api, auth, api_settings) -> None:  # type: ignore[no-untyped-def]
    scan_id = await start(api, auth, ["noop"])
    token = mint_token(api_settings, "alice")
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws?token={token}") as ws:
        assert (await asyncio.wait_for(collect(ws), timeout=20))[-1]["status"] == "completed"
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", protocols=("bearer", token)) as ws:
        assert (await asyncio.wait_for(collect(ws), timeout=20))[-1]["status"] == "completed"


async def test_another_users_scan_closes_with_policy_violation_before_data(api, auth) -> None:  # type: ignore[no-untyped-def]
    scan_id = await start(api, auth, ["sleep_500ms"])
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth("mallory")) as ws:
        assert await asyncio.wait_for(collect(ws), timeout=10) == []
        assert ws.close_code == WSCloseCode.POLICY_VIOLATION


async def test_no_token_is_refused(api, auth) -> None:  # type: ignore[no-untyped-def]
    scan_id = await start(api, auth, ["noop"])
    try:
        async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws"):
            raise AssertionError("connected without a token")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401


async def test_killed_pubsub_connection_still_ends_on_the_terminal_snapshot(
    api, auth, redis
) -> None:  # type: ignore[no-untyped-def]
    scan_id = await start(api, auth, ["sleep_500ms", "sleep_2s"])
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth()) as ws:
        first = await ws.receive_json(timeout=10)
        assert first["status"] in ("queued", "running")
        killed = await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed >= 1
        rest = await asyncio.wait_for(collect(ws), timeout=20)
    assert rest and rest[-1]["status"] == "completed"


async def test_200_sockets_on_one_scan_all_receive_the_terminal_state(
    make_api, api_settings, auth
) -> None:  # type: ignore[no-untyped-def]
    sockets = 200
    # One user's 200 sockets: past the per-user limit, which this test is not about.
    api = await make_api(msgspec.structs.replace(api_settings, ws_per_user_max=sockets))
    scan_id = await start(api, auth, ["sleep_500ms"])

    async def follow() -> dict:  # type: ignore[type-arg]
        async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", headers=auth()) as ws:
            return (await collect(ws))[-1]

    finals = await asyncio.wait_for(asyncio.gather(*(follow() for _ in range(sockets))), timeout=60)
    assert [final["status"] for final in finals] == ["completed"] * sockets


async def test_running_snapshots_reach_an_idle_socket_in_the_hubs_pass(
    api, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The fan-out's fast path is the one taken: a socket waiting for the next snapshot
    gets it written by the hub, not by waking its task, and the client reads it as the
    same JSON in the same order."""
    written: list[int] = []
    write_now = FeedSocket.write_now

    def spy(self: FeedSocket, frame: Frame) -> bool:
        before = self.sent_version
        handled = write_now(self, frame)
        if self.sent_version != before:
            written.append(frame.version)
        return handled

    monkeypatch.setattr(FeedSocket, "write_now", spy)
    _scan_id, received = await followed_to_its_end(api, auth, ["sleep_500ms", "sleep_2s"])
    versions = [snapshot["version"] for snapshot in received]
    running = set(versions[:-1])
    assert set(written) & running, f"no running snapshot took the fast path: {written}"
    assert set(written) <= set(versions), (written, versions)
