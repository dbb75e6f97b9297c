"""Sentinels with a password of their own, in front of a primary with another: the
URL carries both (the primary's in the userinfo, the Sentinels' as
`sentinel_password`), the service runs scans on it, and its logs show the URL
with both passwords hidden."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from coordinator.store.redis_client import connect
from tests.integration.client import ScanClient
from tests.integration.service import Service, WorkerProcess
from tests.redis_cluster import LocalSentinel
from tests.support import eventually

pytestmark = pytest.mark.processes

PRIMARY_PASSWORD = "primary-pass-4f1c"
SENTINEL_PASSWORD = "sentinel-pass-9b7e"
SCANS = 6
FOLLOW_TIMEOUT_S = 30.0
WORKER_UP_TIMEOUT_S = 30.0


@pytest.fixture
def guarded_sentinel(tmp_path: Path) -> Iterator[LocalSentinel]:
    sentinel = LocalSentinel(
        tmp_path / "sentinel", password=PRIMARY_PASSWORD, sentinel_password=SENTINEL_PASSWORD
    ).start()
    yield sentinel
    sentinel.stop()


async def close(client: Redis) -> None:
    """The client, and the Sentinel clients its pool asks for the primary."""
    for sentinel in client.connection_pool.sentinel_manager.sentinels:  # type: ignore[attr-defined]
        await sentinel.aclose()
    await client.aclose()


async def test_the_sentinel_password_is_needed_and_taken_from_the_url(
    guarded_sentinel: LocalSentinel,
) -> None:
    client = connect(guarded_sentinel.url)
    try:
        await client.set("probe", "1")
        assert await client.get("probe") == b"1"
    finally:
        await close(client)
    without = guarded_sentinel.url.partition("?")[0]  # the primary's password only
    client = connect(without)
    try:
        with pytest.raises(RedisError):
            await client.ping()  # the Sentinel refuses to name the primary
    finally:
        await close(client)


async def test_scans_run_on_password_protected_sentinels_and_no_password_is_logged(
    guarded_sentinel: LocalSentinel, tmp_path: Path
) -> None:
    url = guarded_sentinel.url
    service = Service(url, tmp_path / "service.log", workers=2).start()
    worker = WorkerProcess(url, tmp_path / "worker.log").start()
    client = ScanClient(service.base_url)
    try:

        async def worker_up() -> bool:
            log = worker.log_path.read_text(errors="replace")
            return await asyncio.sleep(0, '"coordinator_started"' in log)

        await eventually(worker_up, timeout_s=WORKER_UP_TIMEOUT_S, what="the worker process")
        strategies = ["noop", "sleep_100ms"]
        created = [await client.start(f"guarded-{i}", strategies) for i in range(SCANS)]
        for i, scan in enumerate(created):
            final = await client.follow(f"guarded-{i}", scan["scan_id"], FOLLOW_TIMEOUT_S)
            assert final["status"] == "completed"
        assert client.log.not_found == 0
    finally:
        await client.close()
        worker.stop()
        service.stop()
    logs = service.log_path.read_text() + worker.log_path.read_text()
    port = guarded_sentinel.sentinel_port
    shown = f"redis+sentinel://:***@127.0.0.1:{port}/oppscan?sentinel_password=***"
    assert shown in worker.log_path.read_text()
    assert PRIMARY_PASSWORD not in logs and SENTINEL_PASSWORD not in logs
