"""`oppscan serve`: the service on HOST:PORT, gunicorn running the `web` process
type, with an embedded redis-server when REDIS_URL is unset (loopback only, a
random password, kept in the data directory with the append-only file on, so a
restart keeps scans).

Production unless `--dev` (or DEV_MODE=1): it needs a JWT_SECRET of at least 32
bytes and prints nothing secret (Redis URLs with their password as `***`, no
token). Development mode listens on loopback only, signs with a random secret
kept in the data directory, and prints a non-admin token and the commands to
start and follow a scan.

On SIGTERM, SIGINT (Ctrl-C) or SIGHUP, gunicorn is asked to stop gracefully (its
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
from dataclasses import dataclass
from pathlib import Path

import msgspec

from config.data_dir import DATA_DIR_ENV, DEFAULT_DATA_DIR, with_development_secret
from config.redis_url import redact
from config.settings import Settings, load_settings
from coordinator.process.embedded_redis import EmbeddedRedis, service_redis
from web.auth import mint_token
from web.gunicorn_worker import WORKER_CLASS

DEFAULT_URL = "http://127.0.0.1:8080"
# A development token lasts a working day.
DEV_TOKEN_TTL_S = 12 * 3600
DEV_USER = "dev-user"
# The gunicorn settings module, by import path, so `serve` works from any directory.
GUNICORN_CONFIG = "python:config.gunicorn"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@dataclass(frozen=True)
class ServeOptions:
    workers: int | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    dev: bool = False
    host: str | None = None
    port: int | None = None


def service_env(options: ServeOptions, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment gunicorn runs in: the command's options over the caller's,
    and in development mode the data directory's secret when JWT_SECRET is unset."""
    env = dict(os.environ if environ is None else environ)
    env[DATA_DIR_ENV] = str(options.data_dir)
    if options.dev:
        env["DEV_MODE"] = "1"
    if options.host is not None:
        env["HOST"] = options.host
    if options.port is not None:
        env["PORT"] = str(options.port)
    return with_development_secret(env)


def gunicorn_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "web.app:gunicorn_app",
        "--config",
        GUNICORN_CONFIG,
        "--worker-class",
        WORKER_CLASS,
        "--workers",
        str(settings.web_concurrency),
        "--bind",
        f"{settings.host}:{settings.port}",
    ]


def banner(settings: Settings, data_dir: Path) -> str:
    """What `serve` prints: where it listens and on which Redis (password hidden);
    in development mode also a non-admin token and how to use it."""
    base = f"http://{settings.host}:{settings.port}"
    mode = "development" if settings.dev_mode else "production"
    lines = [f"Opportunity Scanner on {base} ({mode} mode; redis: {redact(settings.redis_url)})"]
    if not settings.dev_mode:
        lines.append("tokens: `oppscan token --user U` signs with this service's JWT_SECRET")
        return "\n".join(lines)
    token = mint_token(settings, DEV_USER, ttl_s=DEV_TOKEN_TTL_S)
    url_export = "" if base == DEFAULT_URL else f"export OPPSCAN_URL={base}\n  "
    data_option = (
        "" if data_dir == DEFAULT_DATA_DIR else f" --data-dir {shlex.quote(str(data_dir))}"
    )
    curl = (
        f"curl -s -X POST {base}/api/v1/scans -H {shlex.quote('Authorization: Bearer ' + token)}"
        f" -H 'Content-Type: application/json' -d '{{}}'"
    )
    return "\n".join(
        [
            *lines,
            f"development token (user {DEV_USER}, not admin):\n  {token}",
            f"start and follow a scan:\n  {url_export}export OPPSCAN_TOKEN={token}\n"
            "  oppscan scan --watch",
            f"or with curl:\n  {curl}",
            "an admin token, on this machine:\n"
            f"  oppscan token --user dev-admin --admin{data_option}",
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


def serve(options: ServeOptions) -> int:
    """The service until it is stopped; returns gunicorn's exit code. Raises
    SettingsError (before anything starts) for settings it refuses."""
    for signum in STOP_SIGNALS:  # until gunicorn runs and takes the signals over
        signal.signal(signum, exit_on_signal)
    env = service_env(options)
    settings = load_settings(env)
    if options.workers is not None:
        settings = msgspec.structs.replace(settings, web_concurrency=options.workers)
    embedded: EmbeddedRedis | None = None
    try:
        if not settings.redis_url:
            embedded = service_redis(options.data_dir, own_session=True).start()
            env["REDIS_URL"] = embedded.url
            settings = msgspec.structs.replace(settings, redis_url=embedded.url)
        print(banner(settings, options.data_dir), flush=True)
        return run_gunicorn(gunicorn_command(settings), env)
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the Redis shutdown short
            signal.signal(signum, signal.SIG_IGN)
        if embedded is not None:
            embedded.stop()
