from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coordinator.process.embedded_redis import EmbeddedRedis
from tests.integration.service import Service, WorkerProcess
from tests.redis_cluster import CLUSTER, SENTINEL, SINGLE, LocalCluster, LocalSentinel


@pytest.fixture
def redis_topology(request: pytest.FixtureRequest) -> str:
    """Which Redis the services run on; a test runs on both with
    ``@pytest.mark.parametrize("redis_topology", TOPOLOGIES, indirect=True)``."""
    return str(getattr(request, "param", SINGLE))


@pytest.fixture
def service_redis_url(redis_topology: str, request: pytest.FixtureRequest) -> str:
    if redis_topology == CLUSTER:
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        return cluster.url
    if redis_topology == SENTINEL:
        sentinel: LocalSentinel = request.getfixturevalue("redis_sentinel")
        return sentinel.url
    server: EmbeddedRedis = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
def start_service(service_redis_url: str, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start the Procfile's web process type; every service started is stopped."""
    started: list[Service] = []

    def start(workers: int = 3, **env: str) -> Service:
        service = Service(
            service_redis_url,
            tmp_path / f"service-{len(started)}.log",
            env_overrides=env,
            workers=workers,
        )
        started.append(service)
        return service.start()

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def start_worker(service_redis_url: str, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(
            service_redis_url, tmp_path / f"worker-{len(started)}.log", env_overrides=env
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        if worker.process is not None and worker.process.poll() is None:
            worker.stop()
