"""Opportunity Scanner seen by a client: its REST API and websocket feed."""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import jwt

TERMINAL = frozenset({"completed", "partial", "failed", "cancelled"})
KNOWN = TERMINAL | {"queued", "running"}
SECRET_ENV = "BENCH_JWT_SECRET"
BASE_URL_ENV = "BENCH_BASE_URL"
TOKEN_TTL_S = 3600
HOLD_USER = "bench-reader"
HOLD_STABLE_S = 0.5
HOLD_POLL_S = 0.02
# How a scan is followed to its end: the POST waits for it (`Prefer: wait`), or the
# scan's websocket is followed after the POST.
FOLLOW_BY_WAIT = "wait"
FOLLOW_BY_WEBSOCKET = "websocket"
FOLLOWERS = (FOLLOW_BY_WAIT, FOLLOW_BY_WEBSOCKET)
# The longest wait the service grants (PREFER_WAIT_MAX_S); a scan still running after it
# is followed on its websocket.
PREFER_WAIT_S = 30


class OppscanClient:
    name = "oppscan"

    def __init__(self) -> None:
        self.base_url = os.environ[BASE_URL_ENV]
        self._secret = os.environ[SECRET_ENV]
        self._tokens: dict[str, str] = {}
        self.follow_by = FOLLOW_BY_WAIT  # the throughput driver's `follow_by` parameter
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def token(self, user: str) -> str:
        if user not in self._tokens:
            now = int(time.time())
            claims = {"sub": user, "iat": now, "exp": now + TOKEN_TTL_S}
            self._tokens[user] = jwt.encode(claims, self._secret, algorithm="HS256")
        return self._tokens[user]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    async def submit(self, user: str, strategies: list[str]) -> str:
        """POST a scan; its id, returned only once its snapshot is in Redis."""
        return str((await self.start(user, strategies, {}))["scan_id"])

    async def start(
        self, user: str, strategies: list[str], extra_headers: dict[str, str]
    ) -> dict[str, object]:
        """POST a scan; the snapshot the answer carries."""
        assert self.session is not None
        async with self.session.post(
            f"{self.base_url}/api/v1/scans",
            json={"strategies": strategies},
            headers={**self.headers(user), **extra_headers},
        ) as response:
            body = await response.json()
            if response.status not in (201, 202):
                raise RuntimeError(f"POST /scans {response.status}: {body}")
            return dict(body)

    async def follow(self, user: str, scan_id: str) -> dict[str, object]:
        """Follow the websocket until the terminal snapshot; return it."""
        assert self.session is not None
        last: dict[str, object] = {}
        async with self.session.ws_connect(
            f"{self.base_url}/api/v1/scans/{scan_id}/ws", headers=self.headers(user)
        ) as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    last = message.json()
        if last.get("status") not in TERMINAL:
            raise RuntimeError(f"websocket of {scan_id} closed at {last.get('status')}")
        return last

    async def run_scan(self, user: str, strategies: list[str]) -> None:
        """Start a scan and see its terminal snapshot: in the POST's answer (which waits
        for it), or on the websocket."""
        if self.follow_by not in FOLLOWERS:
            raise ValueError(f"follow_by must be one of {FOLLOWERS}, not {self.follow_by!r}")
        if self.follow_by == FOLLOW_BY_WEBSOCKET:
            await self.follow(user, await self.submit(user, strategies))
            return
        snapshot = await self.start(user, strategies, {"Prefer": f"wait={PREFER_WAIT_S}"})
        if snapshot["status"] not in TERMINAL:
            await self.follow(user, str(snapshot["scan_id"]))

    async def snapshot(self, user: str, scan_id: str) -> tuple[int, dict[str, object] | None]:
        assert self.session is not None
        async with self.session.get(
            f"{self.base_url}/api/v1/scans/{scan_id}", headers=self.headers(user)
        ) as response:
            body = await response.json() if response.status == 200 else None
            return response.status, body

    async def status(self, user: str, scan_id: str) -> str | None:
        """The scan's status, or None when the read does not name a known state."""
        _code, body = await self.snapshot(user, scan_id)
        if body is None or body.get("status") not in KNOWN:
            return None
        return str(body["status"])

    async def hold(self) -> str:
        """A running scan whose version has stopped moving (its strategies wait on
        market data for longer than the benchmark): the target of status reads."""
        user = HOLD_USER
        scan_id = await self.submit(user, [f"noop_{n:02d}" for n in range(1, 15)])
        last, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < HOLD_STABLE_S:
            _code, body = await self.snapshot(user, scan_id)
            version = int(body["version"]) if body else -1
            if version != last or not body or body["status"] != "running":
                last, stable_since = version, time.monotonic()
            await asyncio.sleep(HOLD_POLL_S)
        return scan_id

    async def cancel(self, user: str, scan_id: str) -> int:
        assert self.session is not None
        async with self.session.delete(
            f"{self.base_url}/api/v1/scans/{scan_id}", headers=self.headers(user)
        ) as response:
            return response.status
