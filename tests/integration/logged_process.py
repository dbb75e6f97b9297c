"""A service process a test started as a user would, with its output in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.integration.service import children_of
from tests.support import eventually

# Longer than gunicorn's graceful timeout: a stop slower than this is a hang.
STOP_TIMEOUT_S = 30.0
# A cold start (virtualenv imports, redis-server, two workers) on a loaded 2-core machine.
READY_TIMEOUT_S = 60.0
POLL_S = 0.05


@dataclass
class LoggedProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> float:
        """Signal the process as a supervisor does; how long it took to exit."""
        began = time.monotonic()
        self.process.send_signal(signum)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        return time.monotonic() - began


async def wait_ready(running: LoggedProcess) -> None:
    """Poll /readyz until it answers 200; fail at once if the process died."""

    async def ready() -> bool:
        assert running.process.poll() is None, running.log()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{running.base_url}/readyz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    await eventually(ready, timeout_s=READY_TIMEOUT_S, interval_s=POLL_S, what="/readyz")


def descendants(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found.extend([*descendants(child), child])
    return found


def kill_all(started: Iterable[LoggedProcess]) -> None:
    """SIGKILL whatever of ``started`` still runs: gunicorn and redis-server run in
    sessions of their own, so each descendant is killed, not only the process group."""
    for running in started:
        if running.process.poll() is None:
            for pid in [*descendants(running.process.pid), running.process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            running.process.wait()
