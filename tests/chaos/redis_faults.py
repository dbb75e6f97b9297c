"""Faults of the redis-server process itself: kill -9, restart on the same port
(with its append-only file, or empty), pause and resume."""

from __future__ import annotations

import shutil
import signal

from coordinator.process.embedded_redis import STARTUP_TIMEOUT_S, EmbeddedRedis


def kill_9(server: EmbeddedRedis) -> None:
    assert server.process is not None and server.process.poll() is None, "redis-server not running"
    server.process.kill()
    server.process.wait(timeout=STARTUP_TIMEOUT_S)
    server.process = None


def restart(server: EmbeddedRedis) -> None:
    """Start again on the same port and data directory: the append-only file is replayed."""
    server.start()


def wipe(server: EmbeddedRedis) -> None:
    """Remove the data files, so the next start comes back empty."""
    for path in server.data_dir.iterdir():
        if path.name.startswith(("appendonly", "dump")):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def pause(server: EmbeddedRedis) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)


def resume(server: EmbeddedRedis) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGCONT)
