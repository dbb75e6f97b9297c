"""Evidence is computed once per data version by one worker, in a child process,
and read by every worker; a crashed computer's lock lapses and another takes over."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from coordinator.service.evidence import (
    COMPUTING_NOTE,
    NOBODY_NOTE,
    NOT_EVALUATED_NOTE,
    EvidenceBook,
)
from coordinator.store import keys
from coordinator.store.codec import evaluation_decoder
from coordinator.store.redis_client import connect
from strategies.evidence import compute
from strategies.opportunity import EvidenceStatus, make_opportunity
from strategies.registry import build_registry
from strategies.sources.bundled import BundledProvider
from tests.support import eventually

STRATEGY = "mean_reversion"  # a cheap rule to replay, with trades
# A coarse stride keeps the child's replay to a fraction of a second.
COARSE_STRIDE_BARS = 96


def idea(strategy: str = STRATEGY):
    return make_opportunity(
        strategy=strategy,
        symbol="BTC/USDT",
        side="short",
        entry=100.0,
        stop=104.0,
        target=96.0,
        confidence=0.9,
        horizon="1 day",
        horizon_bars=24,
        rationale="constructed",
        data_source="test",
        as_of="",
    )


@pytest.fixture
def book_for(redis, settings):
    registry = build_registry(include_diagnostic=True)
    provider = BundledProvider()

    def build(worker: str, **overrides: object) -> EvidenceBook:
        chosen = {"evidence_stride_bars": COARSE_STRIDE_BARS, **overrides}
        worker_settings = msgspec.structs.replace(
            settings, worker_id=worker, market_data_source="bundled", **chosen
        )
        return EvidenceBook(redis, registry, provider, worker_settings)

    return build


async def test_one_worker_computes_and_the_others_read_it(redis, book_for):
    first, second = book_for("a:1"), book_for("b:2")
    for book in (first, second):
        [waiting] = book.attach(STRATEGY, [idea()])
        assert waiting.evidence_status == EvidenceStatus.COMPUTING
        assert waiting.evidence_note == COMPUTING_NOTE
        assert waiting.probability is None and waiting.confidence is None
    locked = await first.refresh()
    assert locked == [STRATEGY]
    assert await second.refresh() == []  # the first holds the lock
    await first.compute(locked)
    assert STRATEGY in first.evaluations
    assert await redis.exists(keys.evidence_lock(first.tag_of(STRATEGY))) == 0
    result_key = keys.evidence_result(first.tag_of(STRATEGY))
    stored = evaluation_decoder.decode(await redis.get(result_key))
    assert stored.strategy == STRATEGY and stored.data_version == first.version
    assert 0 < await redis.pttl(result_key) <= keys.evidence_retention_ms(first._settings)
    assert await second.refresh() == []
    assert second.evaluations[STRATEGY] == stored
    [ready] = second.attach(STRATEGY, [idea()])
    assert ready.evidence_status == EvidenceStatus.READY
    assert ready.evidence_all == stored.overall
    assert ready.evidence is not None
    assert ready.probability is not None and ready.confidence == ready.probability
    assert ready.expected_value_pct is not None


async def test_a_crashed_computers_lock_lapses_and_another_takes_over(redis, book_for):
    crashed = book_for("dead:9", evidence_lock_ttl_s=0.3)
    crashed.attach(STRATEGY, [idea()])
    assert await crashed.refresh() == [STRATEGY]  # took the lock, then died: never refreshed
    survivor = book_for("b:2", evidence_lock_ttl_s=0.3)
    survivor.attach(STRATEGY, [idea()])
    assert await survivor.refresh() == []
    locked = await eventually(survivor.refresh, what="the crashed worker's lock to lapse")
    assert locked == [STRATEGY]
    await survivor.compute(locked)
    assert STRATEGY in survivor.evaluations


async def test_a_worker_that_does_not_compute_says_nobody_is(book_for):
    reader = book_for("c:3", evidence_compute=False)
    reader.attach(STRATEGY, [idea()])
    assert await reader.refresh() == []
    [idle] = reader.attach(STRATEGY, [idea()])
    assert idle.evidence_status == EvidenceStatus.UNAVAILABLE
    assert idle.evidence_note == NOBODY_NOTE


def test_diagnostic_strategies_are_not_evaluated(book_for):
    [marker] = book_for("d:4").attach("noop", [idea("noop")])
    assert marker.evidence_status == EvidenceStatus.UNAVAILABLE
    assert marker.evidence_note == NOT_EVALUATED_NOTE
    assert marker.confidence is None


async def test_the_lock_is_kept_while_the_child_computes_past_its_ttl(book_for):
    computer = book_for("a:1", evidence_lock_ttl_s=0.3, evidence_stride_bars=4)
    other = book_for("b:2", evidence_lock_ttl_s=0.3, evidence_stride_bars=4)
    for book in (computer, other):
        book.attach(STRATEGY, [idea()])
    locked = await computer.refresh()
    computing = asyncio.ensure_future(computer.compute(locked))
    checks = 0
    # Starting the child alone takes longer than the lock's TTL: without refreshes
    # the other worker would take the lock over while it runs.
    while not computing.done():
        assert await other.refresh() == []
        checks += 1
        await asyncio.sleep(0.05)
    await computing
    assert checks > 10
    assert await other.refresh() == [] and STRATEGY in other.evaluations


class MovingProvider(BundledProvider):
    """The bundled data under a data version the test moves on, as a live source's does."""

    version = "v1"

    def data_version(self) -> str:
        return self.version


async def test_a_new_data_version_is_evaluated_anew(redis, settings):
    provider = MovingProvider()
    worker_settings = msgspec.structs.replace(
        settings, worker_id="a:1", market_data_source="bundled", evidence_stride_bars=96
    )
    book = EvidenceBook(redis, build_registry(include_diagnostic=False), provider, worker_settings)
    book.attach(STRATEGY, [idea()])
    assert await book.refresh() == [STRATEGY]
    # Computed here (in a thread: it runs its own loop), on the provider at "v1".
    computed = await asyncio.to_thread(
        lambda: next(compute.evaluations(worker_settings, [STRATEGY], provider))
    )
    await book.store(book.tag_of(STRATEGY), computed)
    [ready] = book.attach(STRATEGY, [idea()])
    assert ready.evidence_status == EvidenceStatus.READY
    v1_key = keys.evidence_result(book.tag_of(STRATEGY))
    provider.version = "v2"
    assert await book.refresh() == [STRATEGY]  # v2 has no evaluation: this worker locks it
    assert book.version == "v2" and book.evaluations == {}
    assert keys.evidence_result(book.tag_of(STRATEGY)) != v1_key
    [again] = book.attach(STRATEGY, [idea()])
    assert again.evidence_status == EvidenceStatus.COMPUTING
    # An evaluation of v1 arriving now (a late child) is not taken for v2's.
    assert computed.evaluation is not None
    book.install(computed.evaluation)
    assert book.evaluations == {}


async def test_sharing_works_on_a_redis_cluster(redis_cluster, settings):
    """An evaluation's result and lock share a hash tag: storing one and releasing the
    other is one script on a Cluster; reads and locks of many strategies are pipelined
    across slots."""
    redis = connect(redis_cluster.url)
    try:
        registry = build_registry(include_diagnostic=False)
        books = [
            EvidenceBook(
                redis,
                registry,
                BundledProvider(),
                msgspec.structs.replace(
                    settings,
                    worker_id=worker,
                    market_data_source="bundled",
                    evidence_stride_bars=COARSE_STRIDE_BARS,
                ),
            )
            for worker in ("a:1", "b:2")
        ]
        for book in books:
            book.attach(STRATEGY, [idea()])
            book.attach("cross_sectional_momentum", [idea("cross_sectional_momentum")])
        locked = await books[0].refresh()
        assert sorted(locked) == ["cross_sectional_momentum", STRATEGY]
        assert await books[1].refresh() == []
        await books[0].compute(locked)
        assert await books[1].refresh() == []
        assert sorted(books[1].evaluations) == ["cross_sectional_momentum", STRATEGY]
    finally:
        await redis.aclose()
