"""Gunicorn settings of the `web` process type.

Prometheus multiprocess mode must be configured before prometheus_client is
imported anywhere, since its value class is chosen at import time and workers
are forked from the master: hence the environment is set at the top here.

The master checks the settings before any worker boots (`on_starting`): a
production start without a JWT_SECRET of 32 bytes or more, or development mode
bound to a non-loopback address, stops there with one line, not with a
traceback per worker.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(MULTIPROC_ENV):
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="oppscan-metrics-")

from prometheus_client import multiprocess  # noqa: E402 - must follow the environment

from config.data_dir import data_dir_from, with_development_secret  # noqa: E402
from config.errors import SettingsError  # noqa: E402
from config.redis_url import redact  # noqa: E402
from config.settings import is_loopback, load_settings  # noqa: E402
from coordinator.process.embedded_redis import (  # noqa: E402
    EmbeddedRedis,
    EmbeddedRedisError,
    service_redis,
)
from web.gunicorn_worker import GRACEFUL_TIMEOUT_S, WORKER_CLASS  # noqa: E402

worker_class = WORKER_CLASS
graceful_timeout = GRACEFUL_TIMEOUT_S
# gunicorn >= 25.1 opens a control socket by default ($XDG_RUNTIME_DIR or
# ~/.gunicorn/gunicorn.ctl) through which any process of the same user can change
# the worker count or stop the service: off. Signals remain the way to steer it.
control_socket_disable = True
# Exit statuses of a master that stops before any worker: its settings refused
# (as `oppscan serve`), or its embedded redis-server failed to start.
SETTINGS_EXIT_STATUS = 2
EMBEDDED_REDIS_EXIT_STATUS = 1

# The master's embedded redis-server when REDIS_URL is unset (see on_starting).
embedded_redis: EmbeddedRedis | None = None


def bound_hosts(binds: list[str]) -> list[str]:
    """The hosts of gunicorn's `--bind` addresses (`unix:` sockets are local)."""
    hosts = []
    for address in binds:
        if not address.startswith(("unix:", "fd://")):
            hosts.append(address.rpartition(":")[0] if ":" in address else address)
    return hosts


def check_settings(binds: list[str]) -> None:
    """Every worker's settings, checked once here; in development mode the data
    directory's secret is filled in for the workers to inherit."""
    env = with_development_secret(os.environ)
    settings = load_settings(env)
    if settings.dev_mode:
        exposed = [host for host in bound_hosts(binds) if not is_loopback(host)]
        if exposed:
            raise SettingsError(
                "DEV_MODE",
                f"development mode listens on loopback only, not on {', '.join(exposed)} "
                "(bind 127.0.0.1, or leave development mode)",
            )
    os.environ["JWT_SECRET"] = env["JWT_SECRET"]


def on_starting(server: Any) -> None:
    """Refuse weak settings; a fresh metrics directory per master (stale files would
    double-count); with no REDIS_URL, one embedded redis-server the workers all
    share: started here, before they fork, so they inherit its URL."""
    global embedded_redis
    try:
        check_settings(server.cfg.bind)
        directory = os.environ[MULTIPROC_ENV]
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
        if not os.environ.get("REDIS_URL"):
            embedded_redis = service_redis(data_dir_from(os.environ)).start()
            os.environ["REDIS_URL"] = embedded_redis.url
            server.log.info("embedded redis-server on %s", redact(embedded_redis.url))
    except (SettingsError, EmbeddedRedisError) as exc:
        # Before any socket or worker exists: one line and the exit status, no traceback.
        shutil.rmtree(os.environ[MULTIPROC_ENV], ignore_errors=True)
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        settings_refused = isinstance(exc, SettingsError)
        raise SystemExit(
            SETTINGS_EXIT_STATUS if settings_refused else EMBEDDED_REDIS_EXIT_STATUS
        ) from None


def on_exit(server: object) -> None:
    """Stop what on_starting started: after the workers, which release leases first."""
    if embedded_redis is not None:
        embedded_redis.stop()
    shutil.rmtree(os.environ[MULTIPROC_ENV], ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
