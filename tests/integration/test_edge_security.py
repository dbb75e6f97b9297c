"""The service's edges, proven against the Procfile's `web` process (gunicorn, two
workers) on a real redis-server, as a client and an operator meet them: token checks
(leeway, audience, issuer, the previous secret), where a token may travel, what
/metrics and /readyz reveal, oversized and malformed headers, per-user connection
limits across workers (a dead worker's slots lapse), and repeated 401s from one
client address."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from multidict import CIMultiDict
from redis.asyncio import Redis

from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.store import keys
from tests.integration.client import token_for
from tests.integration.service import Service
from tests.support import TEST_SECRET, eventually

pytestmark = pytest.mark.processes

PREVIOUS_SECRET = "the-secret-before-the-rotation-32bytes"
AUDIENCE = "oppscan"
ISSUER = "https://idp.test"
METRICS_TOKEN = "scraper-token-for-the-metrics-endpoint"
WS_MAX = 2
WAITS_MAX = 1
AUTH_FAILURES_MAX = 20
LEEWAY_S = 30
OPPSCAN = Path(sys.executable).with_name("oppscan")
DEADLINE_S = 60.0
SWITCHING_PROTOCOLS = 101
FEED_ROUTE = "/api/v1/scans/{scan_id}/ws"
# Keeps every market-data fetch far longer than any test, so a scan stays running.
STALLED_MARKET_DATA_MS = 600_000
TOKEN_MARKER = "eyJTOKENMARKERdoNotLeak"
OVERSIZED_BYTES = 80 * 1024


def running_service(directory: Path, env: dict[str, str]) -> Iterator[Service]:
    redis = EmbeddedRedis(directory / "redis").start()
    running = Service(redis.url, directory / "service.log", workers=2, env_overrides=env)
    try:
        yield running.start()
    finally:
        running.stop()
        redis.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Hardened token checks and a metrics token."""
    yield from running_service(
        tmp_path_factory.mktemp("edge-service"),
        {
            "JWT_SECRET_PREVIOUS": PREVIOUS_SECRET,
            "JWT_AUDIENCE": AUDIENCE,
            "JWT_ISSUER": ISSUER,
            "METRICS_TOKEN": METRICS_TOKEN,
        },
    )


@pytest.fixture(scope="module")
def stalled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Small per-user limits, a trusted proxy (the tests), and market data that never
    arrives: a scan stays running, its version unchanged, while the tests hold it."""
    yield from running_service(
        tmp_path_factory.mktemp("edge-stalled"),
        {
            "WS_PER_USER_MAX": str(WS_MAX),
            "WAITS_PER_USER_MAX": str(WAITS_MAX),
            "AUTH_FAILURES_PER_WINDOW": str(AUTH_FAILURES_MAX),
            "TRUSTED_PROXIES": "127.0.0.1",
            "MARKET_DATA_LATENCY_MS": str(STALLED_MARKET_DATA_MS),
        },
    )


def token(user: str, secret: str = TEST_SECRET, **claims: Any) -> str:
    now = int(time.time())
    base = {"sub": user, "exp": now + 600, "aud": AUDIENCE, "iss": ISSUER}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def call(
    service: Service, method: str, path: str, headers: dict[str, str], **kw: Any
) -> tuple[int, dict[str, Any], CIMultiDict[str]]:
    """(status, JSON body or {}, headers), each on a fresh connection (any worker)."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, service.base_url + path, headers=headers, **kw) as response,
    ):
        text = await response.text()
        body = json.loads(text) if text and "json" in response.content_type else {}
        return response.status, body, response.headers.copy()


async def test_tokens_are_checked_with_leeway_audience_issuer_and_rotation(
    service: Service,
) -> None:
    now = int(time.time())
    accepted = (
        token("edge-rotated", PREVIOUS_SECRET),  # signed before the rotation
        token("edge-skewed", exp=now - LEEWAY_S // 3),  # expired, within the clock skew
        token("edge-early", nbf=now + LEEWAY_S // 3, iat=now + LEEWAY_S // 3),
    )
    for good in accepted:
        assert (await call(service, "GET", "/api/v1/scans", bearer(good)))[0] == 200
    refused = {
        "expired": token("u", exp=now - 4 * LEEWAY_S),
        "no aud": jwt.encode({"sub": "u", "exp": now + 60, "iss": ISSUER}, TEST_SECRET),
        "no iss": jwt.encode({"sub": "u", "exp": now + 60, "aud": AUDIENCE}, TEST_SECRET),
        "other aud": token("u", aud="another-service"),
        "other iss": token("u", iss="https://elsewhere.test"),
        "other secret": token("u", "a-secret-this-service-never-had-32bytes"),
        "no sub": jwt.encode({"exp": now + 60, "aud": AUDIENCE, "iss": ISSUER}, TEST_SECRET),
    }
    for what, bad in refused.items():
        status, body, _ = await call(service, "GET", "/api/v1/scans", bearer(bad))
        assert status == 401, what
        assert body["error"]["code"] in ("invalid_token", "token_expired"), (what, body)


async def test_a_token_outside_the_header_opens_only_the_websocket(service: Service) -> None:
    admin = token("edge-root", role="admin")
    status, body, _ = await call(
        service,
        "GET",
        f"/api/v1/admin/leases?token={admin}",
        {"Upgrade": "websocket", "Connection": "Upgrade"},
    )
    assert status == 401 and body["error"]["code"] == "token_misplaced"
    assert "Authorization: Bearer" in body["error"]["message"]
    status, body, _ = await call(
        service, "GET", "/api/v1/scans", {"Sec-WebSocket-Protocol": f"bearer, {admin}"}
    )
    assert status == 401 and body["error"]["code"] == "token_misplaced"

    user = token("edge-page")
    status, created, _ = await call(
        service, "POST", "/api/v1/scans", bearer(user), json={"strategies": ["noop"]}
    )
    assert status == 202
    url = f"{service.base_url}/api/v1/scans/{created['scan_id']}/ws"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=("bearer", user)) as ws,
    ):
        assert ws.protocol == "bearer"  # the answer names a protocol the browser offered
        snapshots = [message.json() async for message in ws]
    assert snapshots[-1]["status"] == "completed"


async def test_the_cli_follows_the_feed_with_its_header(service: Service) -> None:
    process = await asyncio.create_subprocess_exec(
        str(OPPSCAN),
        "scan", "--strategies", "noop,sleep_100ms", "--watch", "--json",
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")},
            "OPPSCAN_URL": service.base_url,
            "OPPSCAN_TOKEN": token("edge-cli"),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    assert process.returncode == 0, err.decode()
    scan_id = json.loads(out)["scan"]["scan_id"]

    async def feed_statuses() -> list[object]:
        return [
            line["status"] for line in service.log_lines("http_request")
            if line.get("route") == FEED_ROUTE and line.get("scan_id") == scan_id
        ]  # fmt: skip

    # The socket opened (101), on the Authorization header: no token went in its URL.
    assert await eventually(feed_statuses, what="the feed's request line") == [SWITCHING_PROTOCOLS]


async def test_metrics_need_their_token_and_ops_endpoints_name_nothing_secret(
    service: Service,
) -> None:
    assert (await call(service, "GET", "/metrics", {}))[0] == 401
    assert (await call(service, "GET", "/metrics", bearer(token("edge-user"))))[0] == 401
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"{service.base_url}/metrics", headers=bearer(METRICS_TOKEN)) as response,
    ):
        assert response.status == 200
        text = await response.text()
    assert "oppscan_http_requests_total" in text
    redis_port = service.redis_url.rsplit(":", 1)[1].split("/")[0]
    for secret in (TEST_SECRET, PREVIOUS_SECRET, METRICS_TOKEN, service.redis_url):
        assert secret not in text
    assert f":{redis_port}" not in text and socket.gethostname() not in text
    status, body, _ = await call(service, "GET", "/readyz", {})
    assert (status, body) == (200, {"ready": True})


def raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def test_bad_headers_are_answered_and_logged_without_the_token(service: Service) -> None:
    oversized = (
        b"GET /api/v1/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN_MARKER.encode()
        + b"A" * OVERSIZED_BYTES
        + b"\r\n\r\n"
    )
    malformed = (
        b"GET /api/v1/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN_MARKER.encode()
        + b"\x01\r\n\r\n"
    )
    for request, code in ((oversized, b"header_too_large"), (malformed, b"malformed_request")):
        answer = await asyncio.to_thread(raw_exchange, service.port, request)
        assert answer.split(b"\r\n", 1)[0].endswith(b"400 Bad Request"), answer[:100]
        assert code in answer and TOKEN_MARKER.encode() not in answer

    async def logged() -> int:
        return len(service.log_lines("bad_http_request"))

    assert await eventually(logged, what="the bad requests' log lines") == 2
    assert TOKEN_MARKER not in service.log_path.read_text(errors="replace")


async def running_scan(service: Service, user: str) -> str:
    """A scan that stays running, once its version no longer changes (its one strategy
    shown running, waiting on market data that never comes)."""
    status, created, _ = await call(
        service, "POST", "/api/v1/scans", bearer(user), json={"strategies": ["noop"]}
    )
    assert status == 202
    path = f"/api/v1/scans/{created['scan_id']}"

    async def settled() -> bool:
        snapshot = (await call(service, "GET", path, bearer(user)))[1]
        return bool(snapshot["strategies"][0]["status"] == "running")

    await eventually(settled, timeout_s=DEADLINE_S, what="the scan's strategy running")
    return str(created["scan_id"])


async def held_slots(service: Service, user_id: str, kind: str) -> int:
    redis = Redis.from_url(service.redis_url)
    try:
        return int(await redis.zcard(keys.user_connections(user_id, kind)))
    finally:
        await redis.aclose()


async def test_connections_beyond_the_per_user_limits_get_429(stalled: Service) -> None:
    user_id = "edge-limited"
    user = token_for(user_id)
    scan_id = await running_scan(stalled, user)
    path = f"/api/v1/scans/{scan_id}"
    url = stalled.base_url + path + "/ws"
    sessions = [aiohttp.ClientSession() for _ in range(WS_MAX + 1)]
    try:
        sockets = []
        for session in sessions[:WS_MAX]:  # each on its own connection: any worker
            sockets.append(await session.ws_connect(url, headers=bearer(user)))
            await sockets[-1].receive_json(timeout=DEADLINE_S)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await sessions[-1].ws_connect(url, headers=bearer(user))
        assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) >= 1
        # Waits: the one allowed is held (a long poll on the current version)...
        headers = (await call(stalled, "GET", path, bearer(user)))[2]
        long_poll = {**bearer(user), "If-None-Match": headers["ETag"], "Prefer": "wait=10"}
        held = asyncio.ensure_future(call(stalled, "GET", path, long_poll))

        async def waiting() -> bool:
            assert not held.done(), held.result()
            return await held_slots(stalled, user_id, "wait") == WAITS_MAX

        await eventually(waiting, timeout_s=DEADLINE_S, what="the long poll held")
        # ...so the next, on whichever worker, is refused.
        status, body, headers = await call(stalled, "GET", path, long_poll)
        assert (status, body["error"]["code"]) == (429, "too_many_waits")
        assert int(headers["Retry-After"]) >= 1
        assert (await held)[0] == 304  # its wait ran out with nothing newer
        # Closing a socket frees its slot, on whichever worker it was.
        await sockets.pop().close()

        async def reopened() -> bool:
            try:
                sockets.append(await sessions[-1].ws_connect(url, headers=bearer(user)))
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 429
                return False
            return True

        assert await eventually(reopened, timeout_s=DEADLINE_S, what="a freed slot")
        for ws in sockets:
            await ws.close()
    finally:
        for session in sessions:
            await session.close()


async def test_repeated_401s_from_one_client_get_429(stalled: Service) -> None:
    def from_client(address: str) -> dict[str, str]:
        # The trusted proxy (the test, on 127.0.0.1) says which client it forwards.
        return {**bearer("guessed.token.value"), "X-Forwarded-For": address}

    statuses = [
        (await call(stalled, "GET", "/api/v1/scans", from_client("203.0.113.77")))[0]
        for _ in range(AUTH_FAILURES_MAX)
    ]
    assert statuses == [401] * AUTH_FAILURES_MAX
    status, body, headers = await call(stalled, "GET", "/api/v1/scans", from_client("203.0.113.77"))
    assert status == 429 and body["error"]["code"] == "too_many_auth_failures"
    assert int(headers["Retry-After"]) >= 1
    assert (await call(stalled, "GET", "/api/v1/scans", from_client("203.0.113.78")))[0] == 401


def pid_of(member: str) -> int:
    """The pid in a slot's member, `<host>:<pid>#<n>`."""
    return int(member.split("#")[0].rsplit(":", 1)[1])


async def test_a_dead_workers_slot_lapses_while_the_live_one_keeps_its_own(
    stalled: Service,
) -> None:
    """One socket on each worker; the one worker is killed (kill -9, no release), the
    other keeps refreshing its slot, and the dead one's stops counting after the slot
    TTL. Last in this module: it kills a worker (gunicorn starts a new one)."""
    user_id = "edge-dies"
    user = token_for(user_id)
    url = f"{stalled.base_url}/api/v1/scans/{await running_scan(stalled, user)}/ws"
    redis = Redis.from_url(stalled.redis_url)
    slots_key = keys.user_connections(user_id, "ws")
    sessions: list[aiohttp.ClientSession] = []
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def open_socket() -> aiohttp.ClientWebSocketResponse:
        sessions.append(aiohttp.ClientSession())  # a connection of its own: any worker
        sockets.append(await sessions[-1].ws_connect(url, headers=bearer(user)))
        await sockets[-1].receive_json(timeout=DEADLINE_S)
        return sockets[-1]

    async def members() -> list[str]:
        return [member.decode() for member in await redis.zrange(slots_key, 0, -1)]

    try:
        await open_socket()
        (live_member,) = await members()

        async def one_on_each_worker() -> bool:
            second = await open_socket()
            if len({pid_of(member) for member in await members()}) == WS_MAX:
                return True
            await second.close()  # on the first one's worker: try another connection

            async def released() -> bool:
                return await members() == [live_member]

            await eventually(released, what="the second socket's slot released")
            return False

        await eventually(one_on_each_worker, timeout_s=DEADLINE_S, what="a socket per worker")
        (dead_member,) = set(await members()) - {live_member}
        stalled.signal_worker(pid_of(dead_member), signal.SIGKILL)
        # Nothing gave it back: a dead process releases nothing.
        assert dead_member in await members()

        async def reopened() -> bool:
            try:
                await open_socket()
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 429
                return False
            except aiohttp.ClientConnectionError:
                return False  # it reached the killed worker
            return True

        # It lapses within the slot TTL of its last refresh; the live one stays counted.
        assert await eventually(reopened, timeout_s=DEADLINE_S, what="the dead slot to lapse")
        remaining = await members()
        assert dead_member not in remaining and live_member in remaining
    finally:
        for session in sessions:
            await session.close()
        await redis.aclose()
