"""Gunicorn settings of the `web` process type.

Prometheus multiprocess mode must be configured before prometheus_client is
imported anywhere, since its value class is chosen at import time and workers
are forked from the master: hence the environment is set at the top here.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(MULTIPROC_ENV):
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="oppscan-metrics-")

from prometheus_client import multiprocess  # noqa: E402 - must follow the environment

from coordinator.process.embedded_redis import EmbeddedRedis  # noqa: E402

worker_class = "aiohttp.GunicornUVLoopWebWorker"
# Time a worker gets on SIGTERM to release its leases and close its sockets.
graceful_timeout = 10


# The master's embedded redis-server when REDIS_URL is unset (see on_starting).
EMBEDDED_REDIS_DIR = Path(os.environ.get("OPPSCAN_DATA_DIR", ".data/redis")).resolve()
embedded_redis: EmbeddedRedis | None = None


def on_starting(server: object) -> None:
    """A fresh metrics directory per master (stale files would double-count),
    and, with no REDIS_URL, one embedded redis-server the workers all share:
    started here, before they fork, so they inherit its URL."""
    global embedded_redis
    directory = os.environ[MULTIPROC_ENV]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    if not os.environ.get("REDIS_URL"):
        embedded_redis = EmbeddedRedis(EMBEDDED_REDIS_DIR).start()
        os.environ["REDIS_URL"] = embedded_redis.url


def on_exit(server: object) -> None:
    """Stop what on_starting started: after the workers, which release leases first."""
    if embedded_redis is not None:
        embedded_redis.stop()
    shutil.rmtree(os.environ[MULTIPROC_ENV], ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """SIGTERM wakes the aiohttp worker at once.

    aiohttp's worker handles SIGTERM by only clearing its `alive` flag, which
    its main loop reads on a one-second tick, so a SIGTERM'd worker kept its
    scans for up to a second before releasing them. `handle_quit` is its
    graceful stop that also wakes that loop; SIGTERM exists here to hand scans
    over, so it gets the prompt path.
    """
    loop = worker.loop  # type: ignore[attr-defined]
    loop.add_signal_handler(signal.SIGTERM, worker.handle_quit, signal.SIGTERM, None)  # type: ignore[attr-defined]
