"""`oppscan serve` (what `make run` runs): the service on HOST:PORT, gunicorn
running the `web` process type, with an embedded redis-server when REDIS_URL is
unset (kept in a data directory, append-only file on, so a restart keeps scans).

Prints a development token and the commands to start and follow a scan. On
SIGTERM, SIGINT (Ctrl-C) or SIGHUP, gunicorn is asked to stop gracefully (its
workers release their leases) and only then the embedded Redis, so nothing the
workers write on the way out is lost. Both run in their own sessions, so a
terminal's Ctrl-C reaches only `serve`, which stops them in that order.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import msgspec

from config.settings import Settings, load_settings
from coordinator.process.embedded_redis import EmbeddedRedis
from web.auth import mint_token

DEFAULT_DATA_DIR = Path(".data/redis")
DEFAULT_URL = "http://127.0.0.1:8080"
# A development token lasts a working day.
DEV_TOKEN_TTL_S = 12 * 3600
# The gunicorn settings module, by import path, so `serve` works from any directory.
GUNICORN_CONFIG = "python:config.gunicorn"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def development_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `serve` and `token` work in: development mode unless set."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault("DEV_MODE", "1")
    return env


def gunicorn_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "web.app:gunicorn_app",
        "--config",
        GUNICORN_CONFIG,
        "--worker-class",
        "aiohttp.GunicornUVLoopWebWorker",
        "--workers",
        str(settings.web_concurrency),
        "--bind",
        f"{settings.host}:{settings.port}",
    ]


def banner(settings: Settings) -> str:
    token = mint_token(settings, "dev-user", ttl_s=DEV_TOKEN_TTL_S)
    admin = mint_token(settings, "dev-admin", admin=True, ttl_s=DEV_TOKEN_TTL_S)
    base = f"http://{settings.host}:{settings.port}"
    url_export = "" if base == DEFAULT_URL else f"export OPPSCAN_URL={base}\n  "
    curl = (
        f"curl -s -X POST {base}/api/v1/scans -H {shlex.quote('Authorization: Bearer ' + token)}"
        f" -H 'Content-Type: application/json' -d '{{}}'"
    )
    return "\n".join(
        [
            f"Opportunity Scanner on {base} (redis: {settings.redis_url})",
            f"development token (user dev-user):\n  {token}",
            f"admin token (user dev-admin):\n  {admin}",
            f"start and follow a scan:\n  {url_export}export OPPSCAN_TOKEN={token}\n"
            "  oppscan scan --watch",
            f"or with curl:\n  {curl}",
        ]
    )


def run_gunicorn(command: list[str], env: Mapping[str, str]) -> int:
    """Run gunicorn until it exits. It runs in its own session, so a terminal's Ctrl-C
    reaches only us: the first stop signal becomes a graceful SIGTERM (workers release
    their leases), a second one gunicorn's quick shutdown."""
    process = subprocess.Popen(command, env=dict(env), start_new_session=True)
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        process.send_signal(signal.SIGTERM if not received else signal.SIGINT)
        received.append(signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through serve's finally: the embedded Redis stops


def serve(*, workers: int | None, data_dir: Path) -> int:
    """The service until it is stopped; returns gunicorn's exit code."""
    for signum in STOP_SIGNALS:  # until gunicorn runs and takes the signals over
        signal.signal(signum, exit_on_signal)
    env = development_env()
    settings = load_settings(env)
    if workers is not None:
        settings = msgspec.structs.replace(settings, web_concurrency=workers)
    embedded = None if settings.redis_url else EmbeddedRedis(data_dir, own_session=True)
    try:
        if embedded is not None:
            embedded.start()
            env["REDIS_URL"] = embedded.url
            settings = msgspec.structs.replace(settings, redis_url=embedded.url)
        print(banner(settings), flush=True)
        return run_gunicorn(gunicorn_command(settings), env)
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the Redis shutdown short
            signal.signal(signum, signal.SIG_IGN)
        if embedded is not None:
            embedded.stop()
