"""What chaos scenarios share: a client that records its history, a websocket
follower, and the measurements (takeover time) read back from that history."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from tests.chaos.history import FAIL, OK, TERMINAL, UNKNOWN, History
from tests.integration.client import token_for

# A read that gets no answer this fast counts as unknown, never as a hang.
REQUEST_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02
# Errors a client sees while a worker or Redis is away: the outcome is unknown.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)
# Fast settings for scenarios on real processes: a dead owner's scan moves on
# within about a second, a dead strategy worker's task within about a second.
FAST_ENV = {
    "LEASE_TTL_MS": "1000",
    "SWEEP_INTERVAL_MS": "100",
    "WORK_RECLAIM_IDLE_MS": "1000",
    "MAILBOX_POLL_INTERVAL_MS": "200",
    "GENERATION_CHECK_INTERVAL_MS": "200",
}
LEASE_TTL_S = int(FAST_ENV["LEASE_TTL_MS"]) / 1000


def headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


def owner_pid(body: dict) -> int:  # type: ignore[type-arg]
    return int(body["owner"].rsplit(":", 1)[1])


class ChaosClient:
    """REST client whose every operation and read lands in the history.

    Each request opens a fresh connection, so gunicorn spreads reads over workers.
    """

    def __init__(self, base_url: str, history: History, name: str = "client") -> None:
        self.base_url = base_url
        self.history = history
        self.name = name
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )

    async def close(self) -> None:
        await self.session.close()

    async def create(self, user: str, strategies: list[str]) -> str | None:
        op = self.history.invoke(self.name, "create")
        try:
            async with self.session.post(
                f"{self.base_url}/api/v1/scans",
                json={"strategies": strategies},
                headers=headers(user),
            ) as response:
                body = await response.json()
                if response.status in (200, 202):
                    self.history.complete(self.name, "create", op, OK, body["scan_id"])
                    return str(body["scan_id"])
                self.history.complete(self.name, "create", op, FAIL, detail=str(response.status))
                return None
        except TRANSPORT_ERRORS as exc:
            self.history.complete(self.name, "create", op, UNKNOWN, detail=repr(exc))
            return None

    async def read(self, reader: str, user: str, scan_id: str) -> dict | None:  # type: ignore[type-arg]
        try:
            async with self.session.get(
                f"{self.base_url}/api/v1/scans/{scan_id}", headers=headers(user)
            ) as response:
                body = await response.json() if response.status == 200 else None
                self.history.observe(reader, scan_id, response.status, body)
                return body
        except TRANSPORT_ERRORS:
            return None

    async def follow(
        self,
        reader: str,
        user: str,
        scan_id: str,
        timeout_s: float,
        interval_s: float = POLL_INTERVAL_S,
    ) -> dict:  # type: ignore[type-arg]
        """Poll until terminal (errors and 503s are waited out), or fail at the deadline."""
        self.history.follows(reader, scan_id)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body = await self.read(reader, user, scan_id)
            if body is not None and body["status"] in TERMINAL:
                return body
            await asyncio.sleep(interval_s)
        raise AssertionError(f"scan {scan_id} not terminal within {timeout_s} s")

    async def cancel(self, user: str, scan_id: str) -> None:
        op = self.history.invoke(self.name, "cancel", scan_id)
        try:
            async with self.session.delete(
                f"{self.base_url}/api/v1/scans/{scan_id}", headers=headers(user)
            ) as response:
                phase = OK if response.status < 300 else FAIL
                self.history.complete(self.name, "cancel", op, phase, scan_id, str(response.status))
        except TRANSPORT_ERRORS as exc:
            self.history.complete(self.name, "cancel", op, UNKNOWN, scan_id, repr(exc))

    async def get_json(self, user: str, path: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        async with self.session.get(f"{self.base_url}{path}", headers=headers(user)) as response:
            return response.status, await response.json()

    async def record_outcome(self, user: str, scan_id: str) -> dict:  # type: ignore[type-arg]
        """Read the scan's final snapshot and timeline once, into the history."""
        status, snapshot = await self.get_json(user, f"/api/v1/scans/{scan_id}")
        assert status == 200, (status, snapshot)
        status, lifecycle = await self.get_json(user, f"/api/v1/scans/{scan_id}/lifecycle")
        assert status == 200, (status, lifecycle)
        self.history.add_outcome(snapshot, lifecycle["events"])
        return snapshot

    async def lifecycle(self, user: str, scan_id: str) -> list[dict]:  # type: ignore[type-arg]
        status, body = await self.get_json(user, f"/api/v1/scans/{scan_id}/lifecycle")
        assert status == 200, (status, body)
        return body["events"]  # type: ignore[no-any-return]


async def follow_websocket(
    base_url: str, history: History, reader: str, user: str, scan_id: str, timeout_s: float
) -> dict:  # type: ignore[type-arg]
    """Follow a scan's websocket feed to its terminal snapshot, reconnecting if cut."""
    url = f"{base_url.replace('http', 'ws', 1)}/api/v1/scans/{scan_id}/ws"
    history.follows(reader, scan_id)
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.ws_connect(url, headers=headers(user)) as ws:
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            break
                        body = json.loads(message.data)
                        history.observe(reader, scan_id, 200, body)
                        if body["status"] in TERMINAL:
                            return body  # type: ignore[no-any-return]
            except TRANSPORT_ERRORS:
                pass
            await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"websocket for {scan_id} saw no terminal snapshot in {timeout_s} s")


def first_write_above(history: History, scan_id: str, epoch: int) -> float | None:
    """When the first accepted write of a later epoch was sent (monotonic)."""
    sent = [
        write.sent_mono
        for write in history.writes_of(scan_id)
        if write.epoch > epoch and write.outcome == "accepted"
    ]
    return min(sent) if sent else None


def takeover_s(history: History, scan_id: str, epoch: int, fault_mono: float) -> float:
    """From the fault to the new owner's first accepted write."""
    first = first_write_above(history, scan_id, epoch)
    assert first is not None, f"no owner above epoch {epoch} wrote {scan_id}"
    return first - fault_mono


async def ready_everywhere(base_url: str, probes: int) -> bool:
    """True when `probes` fresh connections in a row (spread over workers) read ready."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    ) as session:
        for _ in range(probes):
            try:
                async with session.get(f"{base_url}/readyz") as response:
                    if response.status != 200:
                        return False
            except TRANSPORT_ERRORS:
                return False
    return True


async def closed_everywhere(base_url: str, probes: int) -> bool:
    """True when `probes` fresh connections in a row all read not ready (503)."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    ) as session:
        for _ in range(probes):
            async with session.get(f"{base_url}/readyz") as response:
                if response.status != 503:
                    return False
    return True
