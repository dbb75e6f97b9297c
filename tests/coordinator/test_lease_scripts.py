"""Lease and publish scripts on a real redis-server: fencing by token, epoch and version."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import Redis

from coordinator.actor import fold
from coordinator.actor.fold import ScanView
from coordinator.actor.lease import Lease, LeaseStore
from coordinator.actor.mailbox import Mailbox
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import view_from
from coordinator.errors import LeaseLost
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import Cancel, Report
from coordinator.store.scripts import SCRIPT_BATCH, queue_call
from coordinator.store.scripts.scan import RecheckMailboxes
from tests.support import (
    StaticProvider,
    completed_report,
    diagnostic_registry,
    make_settings,
    sample_opportunity,
)


def report_with_results(strategy: str) -> Report:
    return completed_report(
        strategy, worker="w:1", at_ms=1, opportunities=[sample_opportunity(strategy=strategy)]
    )


@pytest.fixture
async def env(redis: Redis, shared_redis_server):  # type: ignore[no-untyped-def]
    settings = make_settings(redis_url=shared_redis_server.url)
    guard = GenerationGuard(redis)
    await guard.establish()
    scans = Scans(redis, settings, diagnostic_registry(), StaticProvider().symbols(), guard)
    created = await scans.create("alice", ["noop", "sleep_100ms"], None, None)

    class Env:
        pass

    e = Env()
    e.settings, e.scans, e.redis = settings, scans, redis
    e.scan_id = created.snapshot.scan_id
    e.leases = LeaseStore(redis, settings)
    e.other = LeaseStore(redis, msgspec.structs.replace(settings, worker_id="otherhost:2"))
    e.publisher = Publisher(settings, AutoPipeline(redis))
    return e


async def test_acquire_is_exclusive_and_epochs_grow(env) -> None:  # type: ignore[no-untyped-def]
    first = await env.leases.acquire(env.scan_id)
    assert first is not None and first.lease.epoch == 1
    assert await env.other.acquire(env.scan_id) is None
    assert await env.leases.release(first.lease)
    second = await env.other.acquire(env.scan_id)
    assert second is not None and second.lease.epoch == 2


async def test_renew_replaces_the_expiry_and_never_adds(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    for _ in range(5):
        assert await env.leases.renew_all([acquired.lease]) == []
    ttl = await env.redis.pttl(keys.lease(env.scan_id))
    assert 0 < ttl <= env.settings.lease_ttl_ms


async def test_renew_of_a_lease_taken_over_reports_it_lost(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    await env.redis.delete(keys.lease(env.scan_id))  # stands in for expiry
    taken = await env.other.acquire(env.scan_id)
    assert taken is not None and taken.lease.epoch == 2
    assert await env.leases.renew_all([acquired.lease]) == [acquired.lease]


async def test_release_by_a_non_owner_does_nothing(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    forged = Lease(
        env.scan_id, "not-the-token", acquired.lease.epoch, acquired.lease.local_deadline
    )
    assert not await env.other.release(forged)
    assert await env.redis.exists(keys.lease(env.scan_id)) == 1


async def test_ex_owner_publish_is_fenced_by_token(env) -> None:  # type: ignore[no-untyped-def]
    old = await env.leases.acquire(env.scan_id)
    old_view = view_from(old)
    await env.redis.delete(keys.lease(env.scan_id))
    new = await env.other.acquire(env.scan_id)
    new_view = view_from(new)
    await Publisher(env.settings, AutoPipeline(env.redis)).publish(new.lease, new_view)
    with pytest.raises(LeaseLost) as caught:
        await env.publisher.publish(old.lease, old_view)
    assert caught.value.epoch == 1
    version = int(await env.redis.hget(keys.scan(env.scan_id), "version"))
    assert version == 2
    assert int(await env.redis.hget(keys.scan(env.scan_id), "epoch")) == 2


async def test_publish_after_the_lease_lapsed_is_fenced_before_any_takeover(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    await env.redis.delete(keys.lease(env.scan_id))  # lapsed; no one has taken over yet
    with pytest.raises(LeaseLost) as caught:
        await env.publisher.publish(acquired.lease, view)
    assert "token" in caught.value.reason
    assert int(await env.redis.hget(keys.scan(env.scan_id), "version")) == 1


async def test_publish_at_a_lower_epoch_than_written_is_fenced(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    await env.redis.hset(keys.scan(env.scan_id), "epoch", 7)  # a newer epoch has written
    with pytest.raises(LeaseLost) as caught:
        await env.publisher.publish(acquired.lease, view)
    assert "newer epoch" in caught.value.reason


async def test_publish_with_a_stale_version_is_fenced(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view: ScanView = view_from(acquired)
    await env.redis.hincrby(keys.scan(env.scan_id), "version", 1)
    with pytest.raises(LeaseLost):
        await env.publisher.publish(acquired.lease, view)


async def test_publish_after_the_local_deadline_never_reaches_redis(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    acquired.lease.local_deadline = 0.0
    with pytest.raises(LeaseLost):
        await env.publisher.publish(acquired.lease, view)
    assert int(await env.redis.hget(keys.scan(env.scan_id), "version")) == 1


async def test_trim_keeps_every_entry_after_the_cursor(env) -> None:  # type: ignore[no-untyped-def]
    mailbox = Mailbox(env.redis)
    ids = [await mailbox.append(env.scan_id, Cancel(by="x", at_ms=i)) for i in range(5)]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    view.state.cursor = ids[2]
    await env.publisher.publish(acquired.lease, view)
    remaining = [entry.entry_id for entry in await mailbox.read_after(env.scan_id, "0-0")]
    assert remaining == ids[2:]


async def test_terminal_publish_empties_the_mailbox_but_keeps_it(env) -> None:  # type: ignore[no-untyped-def]
    """A finished scan retains no mailbox entries (a stream node is ~4 KB); the key stays,
    with the retention TTL, and a late append is refused (nothing would ever fold it)."""
    mailbox = Mailbox(env.redis)
    cancel_id = await mailbox.append(env.scan_id, Cancel(by="x", at_ms=1))
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    fold.apply(view, cancel_id, Cancel(by="x", at_ms=1))
    await env.publisher.publish(acquired.lease, view)
    assert view.terminal
    assert await env.redis.xlen(keys.mailbox(env.scan_id)) == 0
    assert await env.redis.pttl(keys.mailbox(env.scan_id)) > 0
    assert await mailbox.append(env.scan_id, Cancel(by="late", at_ms=2)) is None
    assert await env.redis.xlen(keys.mailbox(env.scan_id)) == 0


async def test_every_key_of_a_running_scan_has_a_bound(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    fold.apply(view, "1-1", report_with_results("noop"))
    await env.publisher.publish(acquired.lease, view)
    assert not view.terminal
    scan_keys = await env.redis.keys(f"*{{{env.scan_id}}}*")
    assert keys.results(env.scan_id).encode() in scan_keys
    for key in scan_keys:
        assert await env.redis.pttl(key) > 0, f"{key!r} has no TTL"


async def test_append_to_an_expired_mailbox_does_not_recreate_it(env) -> None:  # type: ignore[no-untyped-def]
    mailbox = Mailbox(env.redis)
    await env.redis.delete(keys.mailbox(env.scan_id))  # stands in for retention expiry
    assert await mailbox.append(env.scan_id, Cancel(by="x", at_ms=1)) is None
    assert await env.redis.exists(keys.mailbox(env.scan_id)) == 0


async def test_terminal_publish_gives_every_key_the_retention_ttl(env) -> None:  # type: ignore[no-untyped-def]
    acquired = await env.leases.acquire(env.scan_id)
    view = view_from(acquired)
    fold.apply(view, "1-1", Cancel(by="alice", at_ms=1))
    await env.publisher.publish(acquired.lease, view)
    retention = keys.retention_ttl_ms(env.settings)
    for key in (
        keys.scan(env.scan_id),
        keys.results(env.scan_id),
        keys.mailbox(env.scan_id),
        keys.lifecycle(env.scan_id),
    ):
        ttl = await env.redis.pttl(key)
        assert retention - 1000 < ttl <= retention, key
    assert await env.redis.pttl(keys.tombstone(env.scan_id)) > retention
    assert await env.redis.exists(keys.lease(env.scan_id)) == 0
    assert await env.other.acquire(env.scan_id) is None  # a finished scan is never re-run


async def test_renewing_more_leases_than_a_batch_reports_exactly_the_lost_ones(env) -> None:  # type: ignore[no-untyped-def]
    count = SCRIPT_BATCH + 3
    leases = [Lease(f"batch{n}", f"token{n}", 1, 0.0) for n in range(count)]
    for lease in leases:
        await env.redis.hset(keys.lease(lease.scan_id), "token", lease.token)
    gone = {0, SCRIPT_BATCH - 1, SCRIPT_BATCH, count - 1}  # both sides of a batch edge
    for n in gone:
        await env.redis.delete(keys.lease(leases[n].scan_id))
    lost = await env.leases.renew_all(leases)
    assert sorted(lease.scan_id for lease in lost) == sorted(f"batch{n}" for n in gone)
    kept = leases[1]
    assert 0 < await env.redis.pttl(keys.lease(kept.scan_id)) <= env.settings.lease_ttl_ms
    assert kept.local_deadline > 0.0


async def test_recheck_finds_exactly_the_mailboxes_with_mail_after_their_cursor(env) -> None:  # type: ignore[no-untyped-def]
    # (newest entry, owner's cursor): ids compare as numbers, not as text.
    cases = {
        "news-ms": ("10-0", "9-5"),
        "news-seq": ("9-10", "9-9"),
        "folded": ("9-9", "9-9"),
        "empty": (None, "0-0"),
    }
    for name, (newest, _cursor) in cases.items():
        if newest is not None:
            await env.redis.xadd(keys.mailbox(name), {"m": b""}, id=newest)
    names = list(cases)
    recheck = RecheckMailboxes(scan_ids=names, cursors=[cases[name][1] for name in names])
    async with env.redis.pipeline(transaction=False) as pipe:
        queue_call(pipe, recheck)
        (raw,) = await pipe.execute()
    news = [name for name, has_news in zip(names, recheck.reply(raw), strict=True) if has_news]
    assert sorted(news) == ["news-ms", "news-seq"]
