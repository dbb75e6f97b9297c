"""One scan under one fault on a real service: a poller follows it throughout,
and at the end its outcome, the owners' writes from the worker logs, and the
checker's verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.chaos.checker import check
from tests.chaos.harness import ChaosClient
from tests.chaos.history import History
from tests.integration.service import Service
from tests.support import eventually

FOLLOW_TIMEOUT_S = 30.0
# How long a scan may take to show its first strategy report.
FIRST_REPORT_TIMEOUT_S = 20.0


class Run:
    """One scan under one fault, with a poller following it throughout."""

    def __init__(self, service: Service, user: str) -> None:
        self.service = service
        self.user = user
        self.history = History()
        self.client = ChaosClient(service.base_url, self.history, name=user)
        self.scan_id = ""
        self.follower: asyncio.Task[dict] | None = None  # type: ignore[type-arg]

    async def start(self, strategies: list[str], wait_for_report: bool = True) -> dict:  # type: ignore[type-arg]
        created = await self.client.create(self.user, strategies)
        assert created is not None, "the scan was not created"
        self.scan_id = created
        self.follower = asyncio.ensure_future(
            self.client.follow(f"{self.user}-poller", self.user, created, FOLLOW_TIMEOUT_S)
        )
        if not wait_for_report:
            return {"scan_id": created}
        return await self.running_with_a_report()

    async def running_with_a_report(self) -> dict:  # type: ignore[type-arg]
        async def probe():  # type: ignore[no-untyped-def]
            body = await self.client.read(f"{self.user}-probe", self.user, self.scan_id)
            ready = (
                body and body["status"] == "running" and body["progress"]["strategies_completed"]
            )
            return body if ready else None

        return await eventually(
            probe, timeout_s=FIRST_REPORT_TIMEOUT_S, what="scan running with a report"
        )

    async def finish(self) -> dict:  # type: ignore[type-arg]
        """Wait for the end, read the outcome, load the owners' writes, run the checker."""
        assert self.follower is not None
        final = await self.follower
        await self.client.record_outcome(self.user, self.scan_id)
        self.history.add_log_lines(
            line for line in self.service.log_lines() if line.get("scan_id") == self.scan_id
        )
        assert_history_has_owner_writes(self.history)
        result = check(self.history)
        result.assert_clean()
        return final

    async def close(self) -> None:
        if self.follower is not None and not self.follower.done():
            self.follower.cancel()
        await self.client.close()

    def writes_by(self, pid: int, epoch: int) -> list[str]:
        return [
            write.outcome
            for write in self.history.writes_of(self.scan_id)
            if write.worker.endswith(f":{pid}") and write.epoch == epoch
        ]


async def run_events(service: Service, user: str, scan_id: str) -> list[tuple[str, int]]:
    client = ChaosClient(service.base_url, History())
    try:
        return [(e["event"], e.get("epoch")) for e in await client.lifecycle(user, scan_id)]
    finally:
        await client.close()


def as_probe(found: Callable[[], list]) -> Callable[[], Awaitable[list]]:  # type: ignore[type-arg]
    async def probe() -> list:  # type: ignore[type-arg]
        return found()

    return probe


def worker_lines(service: Service, event: str, scan_id: str, pid: int) -> list[dict]:  # type: ignore[type-arg]
    return [
        line
        for line in service.log_lines(event)
        if line.get("scan_id") == scan_id and str(line.get("worker_id")).endswith(f":{pid}")
    ]


class Fleet:
    """Many scans (one user each) followed together into one history."""

    def __init__(self, service: Service, prefix: str, follow_timeout_s: float = FOLLOW_TIMEOUT_S):
        self.service = service
        self.prefix = prefix
        self.follow_timeout_s = follow_timeout_s
        self.history = History()
        self.client = ChaosClient(service.base_url, self.history, name=prefix)
        self.users: dict[str, str] = {}
        self.followers: list[asyncio.Task[dict]] = []  # type: ignore[type-arg]

    async def start(self, count: int, strategies: list[str]) -> list[str]:
        started = []
        for n in range(count):
            user = f"{self.prefix}-{len(self.users) + n}"
            scan_id = await self.client.create(user, strategies)
            assert scan_id is not None, f"scan {n} of {self.prefix} was not created"
            self.users[scan_id] = user
            started.append(scan_id)
            self.followers.append(
                asyncio.ensure_future(
                    self.client.follow(f"{user}-poller", user, scan_id, self.follow_timeout_s)
                )
            )
        return started

    async def all_running_with_a_report(self) -> None:
        async def probe() -> bool:
            for scan_id, user in self.users.items():
                body = await self.client.read(f"{user}-probe", user, scan_id)
                if not (body and body["progress"]["strategies_completed"]):
                    return False
            return True

        await eventually(probe, timeout_s=FIRST_REPORT_TIMEOUT_S, what="every scan reporting")

    async def finish(self) -> list[dict]:  # type: ignore[type-arg]
        """Wait for every scan's end, read outcomes and owner writes, run the checker."""
        finals = await asyncio.gather(*self.followers)
        for scan_id, user in self.users.items():
            await self.client.record_outcome(user, scan_id)
        self.history.add_log_lines(
            line for line in self.service.log_lines() if line.get("scan_id") in self.users
        )
        assert_history_has_owner_writes(self.history)
        check(self.history).assert_clean()
        return finals

    async def close(self) -> None:
        for follower in self.followers:
            follower.cancel()
        await self.client.close()


def assert_history_has_owner_writes(history: History) -> None:
    """A history without the owners' writes would pass invariant 1 vacuously:
    fail if any scan's accepted writes or any report acknowledgement is missing."""
    for scan_id in history.outcomes:
        accepted = [w for w in history.writes_of(scan_id) if w.outcome == "accepted"]
        assert accepted, f"no snapshot_publish line for {scan_id}: the write audit is not read"
    assert history.acks, "no report_appended line: the report audit is not read"
