"""Chaos fixtures: one 3-worker service with fast leases shared by the scenarios
that only hurt worker processes (gunicorn respawns what they kill), plus the
integration fixtures for scenarios that need a Redis or a service of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coordinator.process.embedded_redis import EmbeddedRedis
from tests.chaos.harness import FAST_ENV
from tests.integration.conftest import (  # noqa: F401 - fixtures re-exported for tests/chaos
    redis_topology,
    service_redis_url,
    start_service,
    start_worker,
)
from tests.integration.service import Service

WEB_WORKERS = 3


@pytest.fixture(scope="session")
def fault_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Three web workers on a private redis-server, lease 1 s; scenarios use distinct users."""
    path = tmp_path_factory.mktemp("chaos-service")
    redis = EmbeddedRedis(path / "redis").start()
    service = Service(redis.url, path / "service.log", env_overrides=dict(FAST_ENV))
    service.workers = WEB_WORKERS
    try:
        yield service.start()
    finally:
        service.stop()
        redis.stop()
