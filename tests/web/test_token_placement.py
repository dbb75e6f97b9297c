"""Where a token may travel: the Authorization header everywhere; the `token` query
parameter and `Sec-WebSocket-Protocol: bearer, <token>` on the websocket route only
(anywhere else a 401 that says where the token goes); the CLI's handshake carries
the header and no URL token."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import WSCloseCode, web

from web.auth import mint_token
from web.cli_client import ScanService

MISPLACED = "token_misplaced"


async def scan_of(api, auth) -> str:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    return str((await response.json())["scan_id"])


@pytest.mark.parametrize(
    "path", ["/api/v1/scans", "/api/v1/admin/leases", "/api/v1/opportunities/status/x"]
)
async def test_query_token_elsewhere_is_a_401_saying_where_it_goes(api, api_settings, path) -> None:  # type: ignore[no-untyped-def]
    admin = mint_token(api_settings, "root", admin=True)
    for headers in ({}, {"Upgrade": "websocket", "Connection": "Upgrade"}):
        response = await api.get(path, params={"token": admin}, headers=headers)
        assert response.status == 401, (path, headers)
        error = (await response.json())["error"]
        assert error["code"] == MISPLACED
        assert "Authorization: Bearer" in error["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_subprotocol_token_elsewhere_is_a_401(api, api_settings) -> None:  # type: ignore[no-untyped-def]
    admin = mint_token(api_settings, "root", admin=True)
    response = await api.get(
        "/api/v1/admin/leases",
        headers={"Sec-WebSocket-Protocol": f"bearer, {admin}", "Upgrade": "websocket"},
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == MISPLACED


async def test_a_url_token_is_refused_even_beside_a_valid_header(api, auth, api_settings) -> None:  # type: ignore[no-untyped-def]
    token = mint_token(api_settings, "alice")
    response = await api.get("/api/v1/scans", params={"token": token}, headers=auth())
    assert response.status == 401
    assert (await response.json())["error"]["code"] == MISPLACED


async def test_the_socket_answers_the_bearer_subprotocol_the_browser_offered(
    api, auth, api_settings
) -> None:  # type: ignore[no-untyped-def]
    scan_id = await scan_of(api, auth)
    token = mint_token(api_settings, "alice")
    async with api.ws_connect(f"/api/v1/scans/{scan_id}/ws", protocols=("bearer", token)) as ws:
        assert ws.protocol == "bearer"
        async for _ in ws:
            pass
        assert ws.close_code == WSCloseCode.OK


async def test_the_cli_handshake_sends_the_header_and_no_url_token(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    handshakes: list[tuple[str, str | None]] = []

    async def feed(request: web.Request) -> web.WebSocketResponse:
        handshakes.append((request.path_qs, request.headers.get("Authorization")))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"version": 1, "status": "completed"})
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/api/v1/scans/{scan_id}/ws", feed)
    server = await aiohttp_server(app)
    async with ScanService(str(server.make_url("")), "the.token.value") as service:
        snapshots = [snapshot async for snapshot in service.feed("s1")]
    assert snapshots == [{"version": 1, "status": "completed"}]
    assert handshakes == [("/api/v1/scans/s1/ws", "Bearer the.token.value")]


async def test_the_page_puts_its_token_in_the_subprotocol_never_the_url() -> None:
    from web.page import STATIC_DIR

    script = (STATIC_DIR / "js" / "feed.js").read_text()
    assert '["bearer", token]' in script  # the subprotocol list of `new WebSocket(...)`
    for source in (STATIC_DIR / "js").glob("*.js"):
        text = source.read_text()
        assert "?token=" not in text and "token=${" not in text, source.name


async def test_a_handshake_without_a_token_is_refused_before_the_upgrade(api, auth) -> None:  # type: ignore[no-untyped-def]
    scan_id = await scan_of(api, auth)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await asyncio.wait_for(api.ws_connect(f"/api/v1/scans/{scan_id}/ws"), timeout=10)
    assert refused.value.status == 401
