"""Fixtures: one Redis family (fakeredis for single steps, real redis-server for
everything that crosses processes, leases, streams, scripts or faults)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import fakeredis
import pytest
from redis.asyncio import Redis

from config.settings import Settings
from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.service.coordinator import Coordinator
from coordinator.service.scans import Scans
from coordinator.store.redis_client import connect
from tests.redis_cluster import LocalCluster, LocalSentinel
from tests.support import StaticProvider, diagnostic_registry, make_settings

# The `processes` marker, kept true (make test-fast leaves those tests out).
pytest_plugins = ("tests.process_guard",)


@pytest.fixture(scope="session", autouse=True)
def collect_frozen_garbage_at_the_end() -> Iterator[None]:
    """What collect_garbage_in_teardown froze and became garbage since is collected
    once the session ends (torn down last); a socket or transport left open among it
    fails the session's last teardown."""
    yield
    gc.unfreeze()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, f"left open by some test, found at the end of the session: {leaks}"


@pytest.fixture(autouse=True)
def collect_garbage_in_teardown() -> Iterator[None]:
    """Set up first, so torn down last (after the test's event loop is closed): a
    socket or transport the test left open is collected here and fails this test
    (filterwarnings = error), not whichever later test the collector runs in.

    What survives the collection (modules, caches, wider fixtures' objects) is then
    frozen out of later ones, so each test's collection walks only what that test
    made: walking every module numpy, statsmodels and hypothesis loaded, after each
    test, was most of the unit tests' time (about 35 s of 40)."""
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def shared_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """One real redis-server for the tests that only need a clean database."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis-shared"), appendonly=False).start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A private real redis-server (append-only file on) a test may kill or restart."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A private three-master Redis Cluster on loopback (fails clearly without redis-cli)."""
    cluster = LocalCluster(tmp_path / "cluster").start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_sentinel(tmp_path: Path) -> Iterator[LocalSentinel]:
    """A private primary + replica watched by one Sentinel, on loopback."""
    sentinel = LocalSentinel(tmp_path / "sentinel").start()
    yield sentinel
    sentinel.stop()


@pytest.fixture
async def redis(shared_redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = connect(shared_redis_server.url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
async def fake_redis() -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


@pytest.fixture
def settings(shared_redis_server: EmbeddedRedis) -> Settings:
    return make_settings(redis_url=shared_redis_server.url)


@pytest.fixture
async def coordinator_factory(redis: Redis) -> AsyncIterator:
    """Build started coordinators (each a pretend worker); all are stopped at the end."""
    made: list[Coordinator] = []

    async def build(
        settings: Settings, *, start: bool = True, run_strategies: bool = True
    ) -> Coordinator:
        coordinator = Coordinator(
            redis, settings, diagnostic_registry(), StaticProvider(), run_strategies=run_strategies
        )
        if start:
            await coordinator.start()
        made.append(coordinator)
        return coordinator

    yield build
    for coordinator in made:
        await coordinator.stop()


@pytest.fixture
def scans_for(redis: Redis):  # type: ignore[no-untyped-def]
    def build(settings: Settings, coordinator: Coordinator, *, claiming: bool = False) -> Scans:
        """``claiming``: as the web layer's, the coordinator claims what it creates."""
        return Scans(
            redis,
            settings,
            diagnostic_registry(),
            StaticProvider().symbols(),
            coordinator.generation,
            coordinator.autopipe if claiming else None,
            claimer=coordinator if claiming else None,
        )

    return build
