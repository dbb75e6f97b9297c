"""The `worker` process type: a coordinator with no HTTP, adding strategy capacity.

`python -m coordinator.worker`; refuses weak settings (JWT_SECRET unset or
shorter than 32 bytes, as every production start) with one line and exit
status 2; stops gracefully (releasing its leases) on SIGTERM or SIGINT, also
while it still waits for an unreachable Redis at start.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import structlog
import uvloop

from config.data_dir import with_development_secret
from config.errors import SettingsError
from config.logging import configure_logging
from config.redis_url import redact
from config.settings import Settings, load_settings
from coordinator.process.gc_tuning import tune_gc
from coordinator.service.coordinator import Coordinator
from coordinator.store.redis_client import connect
from strategies.providers import configured_provider
from strategies.registry import build_registry

log = structlog.get_logger(__name__)
SETTINGS_EXIT_STATUS = 2


def worker_settings() -> Settings:
    settings = load_settings(with_development_secret(os.environ))
    if not settings.redis_url:
        raise SettingsError("REDIS_URL", "required by the worker process")
    return settings


async def run_worker(settings: Settings) -> None:
    assert settings.redis_url is not None  # worker_settings checked it
    redis = connect(settings.redis_url)
    provider = configured_provider(settings)
    registry = build_registry(include_diagnostic=settings.diagnostic_strategies)
    coordinator = Coordinator(redis, settings, registry, provider)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker_starting", redis=redact(settings.redis_url))
    try:
        if await started_unless_stopped(coordinator, stop):
            await stop.wait()
        else:
            log.info("worker_stopped_while_starting")
    finally:
        await coordinator.stop()
        await redis.aclose()


async def started_unless_stopped(coordinator: Coordinator, stop: asyncio.Event) -> bool:
    """Start the coordinator; False if a stop signal came first (it may still be
    waiting for Redis then, and owns nothing yet)."""
    starting = asyncio.ensure_future(coordinator.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if starting.done():
        starting.result()
        return True
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    return False


def main() -> None:
    try:
        settings = worker_settings()
    except SettingsError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(SETTINGS_EXIT_STATUS) from None
    configure_logging(settings.log_level, settings.worker_id)
    tune_gc()
    # The same loop as the web process's gunicorn worker class (see the Procfile).
    uvloop.run(run_worker(settings))


if __name__ == "__main__":
    main()
