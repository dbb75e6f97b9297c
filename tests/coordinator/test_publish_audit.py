"""Every owner write attempt leaves one `snapshot_publish` line: the chaos suite's
history of owner writes is read from these lines, so they are a contract."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from coordinator.actor.lease import LeaseStore
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import view_from
from coordinator.errors import LeaseLost
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.generation import GenerationGuard
from tests.support import StaticProvider, diagnostic_registry, make_settings


def audit_lines(logs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [line for line in logs if line["event"] == "snapshot_publish"]


async def test_accepted_fenced_and_self_fenced_attempts_are_each_logged(
    redis: Redis, shared_redis_server
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(redis_url=shared_redis_server.url)
    guard = GenerationGuard(redis)
    await guard.establish()
    scans = Scans(redis, settings, diagnostic_registry(), StaticProvider().symbols(), guard)
    scan_id = (await scans.create("alice", ["noop"], None, None)).snapshot.scan_id
    old = await LeaseStore(redis, settings).acquire(scan_id)
    other = msgspec.structs.replace(settings, worker_id="otherhost:2")
    with capture_logs() as logs:
        old_view = view_from(old)
        await Publisher(settings, AutoPipeline(redis)).publish(old.lease, old_view)
        await redis.delete(keys.lease(scan_id))
        new = await LeaseStore(redis, other).acquire(scan_id)
        await Publisher(other, AutoPipeline(redis)).publish(new.lease, view_from(new))
        old_view.dirty = True
        with pytest.raises(LeaseLost):
            await Publisher(settings, AutoPipeline(redis)).publish(old.lease, old_view)
        old.lease.local_deadline = 0.0
        with pytest.raises(LeaseLost):
            await Publisher(settings, AutoPipeline(redis)).publish(old.lease, old_view)
    lines = audit_lines(logs)
    assert [(line["epoch"], line["outcome"]) for line in lines] == [
        (1, "accepted"),
        (2, "accepted"),
        (1, "fenced"),
        (1, "self_fenced"),
    ]
    assert [line.get("version") for line in lines[:2]] == [2, 3]
    assert all(line["scan_id"] == scan_id for line in lines)
    assert all(line["sent_mono"] <= line["reply_mono"] for line in lines)
