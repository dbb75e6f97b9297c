"""The gunicorn worker class of the `web` process type: aiohttp's uvloop worker,
stopping promptly on SIGTERM at every stage of its life.

aiohttp's worker handles SIGTERM by only clearing its `alive` flag, which its
serve loop reads on a one-second tick, and which nothing reads while the worker
boots: a worker still waiting for an unreachable Redis at boot (the coordinator
waits rather than exit, see Coordinator.connect_at_start) kept running until
gunicorn's graceful timeout ran out and killed it. Here a SIGTERM while serving
takes the graceful path at once (`handle_quit` also wakes the serve loop; the
workers release their leases), and a SIGTERM while booting cancels the boot:
nothing is owned yet, and the worker exits with one log line, not a traceback,
and without the interpreter's teardown (over a second of CPU collecting the
imported libraries' objects, measured, with nothing to release).
"""

from __future__ import annotations

import asyncio
import os
import signal

import structlog
from aiohttp.worker import GunicornUVLoopWebWorker

log = structlog.get_logger(__name__)
# Time a worker gets on SIGTERM to release its leases and close its sockets; gunicorn
# kills it after that (config/gunicorn.py's graceful_timeout).
GRACEFUL_TIMEOUT_S = 10


class ServiceWorker(GunicornUVLoopWebWorker):
    stopped_while_booting = False

    def init_signals(self) -> None:
        super().init_signals()
        self.loop.add_signal_handler(signal.SIGTERM, self.handle_term)

    def handle_term(self) -> None:
        if self.booted:
            self.handle_quit(signal.SIGTERM, None)
            return
        self.alive = False
        self.stopped_while_booting = True
        if self._task is not None:
            self._task.cancel()

    def run(self) -> None:
        try:
            super().run()
        except asyncio.CancelledError:
            if not self.stopped_while_booting:
                raise
            log.info("worker_stopped_while_booting", pid=self.pid)  # written and flushed
            os._exit(0)


# As gunicorn's --worker-class and worker_class setting name it.
WORKER_CLASS = f"{ServiceWorker.__module__}.{ServiceWorker.__qualname__}"
