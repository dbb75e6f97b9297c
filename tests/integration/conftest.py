from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coordinator.embedded_redis import EmbeddedRedis
from tests.integration.service import Service, WorkerProcess


@pytest.fixture
def start_service(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start the Procfile's web process type; every service started is stopped."""
    started: list[Service] = []

    def start(workers: int = 3, **env: str) -> Service:
        service = Service(
            redis_server.url,
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
def start_worker(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(
            redis_server.url, tmp_path / f"worker-{len(started)}.log", env_overrides=env
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        if worker.process is not None and worker.process.poll() is None:
            worker.stop()
