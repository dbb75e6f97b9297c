"""The `worker` process type: a coordinator with no HTTP, adding strategy capacity.

`python -m coordinator.worker`; stops gracefully (releasing its leases) on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal

import uvloop

from config.logging import configure_logging
from config.settings import Settings, load_settings
from coordinator.coordinator import Coordinator
from coordinator.gc_tuning import tune_gc
from coordinator.redis_client import connect
from strategies.providers import configured_provider
from strategies.registry import build_registry


async def run_worker(settings: Settings) -> None:
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is required for the worker process")
    redis = connect(settings.redis_url)
    provider = configured_provider(settings)
    registry = build_registry(include_diagnostic=settings.diagnostic_strategies)
    coordinator = Coordinator(redis, settings, registry, provider)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await coordinator.start()
    try:
        await stop.wait()
    finally:
        await coordinator.stop()
        await redis.aclose()


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.worker_id)
    tune_gc()
    # The same loop as the web process's gunicorn worker class (see the Procfile).
    uvloop.run(run_worker(settings))


if __name__ == "__main__":
    main()
