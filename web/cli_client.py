"""The command line's HTTP and websocket client of a running service.

`follow` yields a scan's snapshots until the terminal one: from the websocket
feed, and, should the socket fail or close early (a worker restarting, a proxy
dropping it), by polling the REST snapshot, as the live page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import aiohttp

from coordinator.store.records import TERMINAL_SCAN_STATUSES as TERMINAL_STATUSES

CREATED = 202
# Unreachable (a restart) or 503 (Redis briefly away): the poll tries again, this many
# times in a row at most (about ten seconds).
TRANSIENT_STATUSES = frozenset({0, 503})
TRANSIENT_FAILURES_MAX = 20
# A REST call that takes longer than this is reported, not waited on forever.
REQUEST_TIMEOUT_S = 30.0
# Ping the feed this often, so a dead connection is noticed and polling takes over.
WS_HEARTBEAT_S = 15.0
# How often the fallback re-reads the snapshot; a scan runs for seconds to minutes.
POLL_INTERVAL_S = 0.5

Json = dict[str, Any]


class ServiceError(Exception):
    """The service answered with an error (`status` 0: it could not be reached)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{message} (HTTP {status} {code})" if status else message)


class ScanService:
    """One user's view of the service at `base_url`, authenticated by `token`."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session: aiohttp.ClientSession

    async def __aenter__(self) -> ScanService:
        # Made here, not in __init__: an aiohttp session belongs to a running loop.
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()

    async def fetch(
        self,
        method: str,
        path: str,
        *,
        body: Json | None = None,
        query: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> tuple[int, str]:
        """The status and text of the answer; ServiceError when none came."""
        url = self.base_url + path
        try:
            async with self.session.request(
                method, url, json=body, params=query or {}, headers={"Accept": accept}
            ) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ServiceError(0, "unreachable", f"cannot reach {url}: {describe(exc)}") from None

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Json | None = None,
        query: Mapping[str, str] | None = None,
    ) -> tuple[int, Json]:
        status, text = await self.fetch(method, path, body=body, query=query)
        reply = parse_json(text)
        if status >= 400 or reply is None:
            raise error_of(status, reply, text)
        return status, reply

    async def start_scan(
        self, strategies: list[str] | None, symbols: list[str] | None
    ) -> tuple[bool, Json]:
        """(created, snapshot): not created when the user's active scan came back instead."""
        body = {
            name: value
            for name, value in (("strategies", strategies), ("symbols", symbols))
            if value is not None
        }
        status, snapshot = await self.call("POST", "/api/v1/scans", body=body)
        return status == CREATED, snapshot

    async def scan(self, scan_id: str) -> Json:
        return (await self.call("GET", f"/api/v1/scans/{scan_id}"))[1]

    async def results(self, scan_id: str) -> Json:
        return (await self.call("GET", f"/api/v1/scans/{scan_id}/results"))[1]

    async def results_csv(self, scan_id: str) -> str:
        """The results as the service's CSV (`Accept: text/csv`)."""
        path = f"/api/v1/scans/{scan_id}/results"
        status, text = await self.fetch("GET", path, accept="text/csv")
        if status >= 400:
            raise error_of(status, parse_json(text), text)
        return text

    async def leases(self, query: Mapping[str, str]) -> Json:
        return (await self.call("GET", "/api/v1/admin/leases", query=query))[1]

    async def follow(self, scan_id: str) -> AsyncIterator[Json]:
        """Each newer snapshot of the scan, ending with its terminal one."""
        last_version = 0
        async with contextlib.aclosing(self.feed(scan_id)) as snapshots:
            async for snapshot in snapshots:
                if snapshot["version"] > last_version:
                    last_version = snapshot["version"]
                    yield snapshot
                    if snapshot["status"] in TERMINAL_STATUSES:
                        return
        failures = 0
        while True:  # the socket ended before the terminal snapshot: poll
            try:
                snapshot = await self.scan(scan_id)
                failures = 0
            except ServiceError as exc:
                failures += 1
                if exc.status not in TRANSIENT_STATUSES or failures > TRANSIENT_FAILURES_MAX:
                    raise
                await asyncio.sleep(POLL_INTERVAL_S)
                continue
            if snapshot["version"] > last_version:
                last_version = snapshot["version"]
                yield snapshot
            if snapshot["status"] in TERMINAL_STATUSES:
                return
            await asyncio.sleep(POLL_INTERVAL_S)

    async def feed(self, scan_id: str) -> AsyncGenerator[Json, None]:
        """The websocket's snapshots; stops quietly on any failure (the caller polls on)."""
        url = f"{self.base_url}/api/v1/scans/{scan_id}/ws"
        try:
            # The handshake carries the session's Authorization header, as every call
            # does: a token in the URL would end up in proxies' access logs.
            async with self.session.ws_connect(url, heartbeat=WS_HEARTBEAT_S) as ws:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        return
                    snapshot = parse_json(message.data)
                    if snapshot is None:
                        return
                    yield snapshot
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return


def parse_json(text: str) -> Json | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def error_of(status: int, reply: Json | None, text: str) -> ServiceError:
    error = (reply or {}).get("error")
    if isinstance(error, dict) and "message" in error:
        return ServiceError(status, str(error.get("code", "error")), str(error["message"]))
    return ServiceError(status, "unexpected_reply", text.strip()[:200] or "empty reply")


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
