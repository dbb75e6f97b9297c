"""An HTTP client for integration tests that records every read, so the tests
can check the invariants readers must see (no not_found, no version going back)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp

from config.settings import Settings
from tests.support import TEST_SECRET, eventually
from web.auth import mint_token

TERMINAL = frozenset({"completed", "partial", "failed", "cancelled"})


def token_for(user: str) -> str:
    return mint_token(Settings(jwt_secret=TEST_SECRET), user)


@dataclass
class ReadLog:
    reads: int = 0
    not_found: int = 0
    server_errors: int = 0
    zero_totals: int = 0
    backwards: list[str] = field(default_factory=list)
    last_version: dict[str, int] = field(default_factory=dict)
    last_completed: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, scan_id: str, status: int, body: dict | None) -> None:  # type: ignore[type-arg]
        self.reads += 1
        if status == 404:
            self.not_found += 1
        if status >= 500:
            self.server_errors += 1
        if status != 200 or body is None:
            return
        version, done = body["version"], body["progress"]["strategies_completed"]
        if body["progress"]["total_strategies"] < 1:
            self.zero_totals += 1
        if version < self.last_version.get(scan_id, 0) or done < self.last_completed[scan_id]:
            self.backwards.append(f"{scan_id}: v{version} done {done}")
        self.last_version[scan_id] = max(version, self.last_version.get(scan_id, 0))
        self.last_completed[scan_id] = max(done, self.last_completed[scan_id])


class ScanClient:
    """Each request on a fresh TCP connection, so gunicorn spreads them over workers."""

    def __init__(self, base_url: str, log: ReadLog | None = None) -> None:
        self.base_url = base_url
        self.log = log or ReadLog()
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))

    async def close(self) -> None:
        await self.session.close()

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    async def start(self, user: str, strategies: list[str]) -> dict:  # type: ignore[type-arg]
        async with self.session.post(
            f"{self.base_url}/api/v1/scans",
            json={"strategies": strategies},
            headers=self.headers(user),
        ) as response:
            assert response.status == 202, await response.text()
            return await response.json()  # type: ignore[no-any-return]

    async def read(self, user: str, scan_id: str) -> dict | None:  # type: ignore[type-arg]
        async with self.session.get(
            f"{self.base_url}/api/v1/scans/{scan_id}", headers=self.headers(user)
        ) as response:
            body = await response.json() if response.status == 200 else None
            self.log.record(scan_id, response.status, body)
            return body

    async def results(self, user: str, scan_id: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        async with self.session.get(
            f"{self.base_url}/api/v1/scans/{scan_id}/results", headers=self.headers(user)
        ) as response:
            return response.status, await response.json()

    async def follow(
        self, user: str, scan_id: str, timeout_s: float, interval_s: float = 0.02
    ) -> dict:  # type: ignore[type-arg]
        """Poll until terminal, or fail at the deadline."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body = await self.read(user, scan_id)
            if body is not None and body["status"] in TERMINAL:
                return body
            await asyncio.sleep(interval_s)
        raise AssertionError(f"scan {scan_id} not terminal within {timeout_s} s")


def token_for_admin(user: str) -> str:
    return mint_token(Settings(jwt_secret=TEST_SECRET), user, admin=True)


async def running_with_one_report(client: ScanClient, user: str, scan_id: str) -> dict:  # type: ignore[type-arg]
    async def probe():  # type: ignore[no-untyped-def]
        body = await client.read(user, scan_id)
        ready = (
            body and body["status"] == "running" and body["progress"]["strategies_completed"] >= 1
        )
        return body if ready else None

    return await eventually(probe, timeout_s=20, what="scan running with noop reported")


def owner_pid(body: dict) -> int:  # type: ignore[type-arg]
    return int(body["owner"].rsplit(":", 1)[1])
