"""The process's one aiojobs.Scheduler: every background job of the coordinator.

Jobs are spawned once started and closed together on stop; a job asked for from
synchronous code runs at the scheduler's next turn, and is dropped once stopping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import aiojobs

from coordinator.errors import CoordinatorError


class Jobs:
    def __init__(self) -> None:
        self._scheduler: aiojobs.Scheduler | None = None
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Future[object]] = set()

    @property
    def started(self) -> bool:
        return self._scheduler is not None

    @property
    def stopping(self) -> asyncio.Event:
        """Set once the coordinator stops: loops end, new work is refused."""
        return self._stopping

    def open(self) -> None:
        self._scheduler = aiojobs.Scheduler(limit=None, pending_limit=0)

    async def spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run background work of this process in the one scheduler."""
        if self._scheduler is None:
            raise CoordinatorError("coordinator not started")
        await self._scheduler.spawn(coroutine)

    def run_soon(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run in the scheduler from synchronous code (closed on stop with the rest);
        dropped once stopping, as the scheduler takes no new job."""
        if self._scheduler is None or self._stopping.is_set():
            coroutine.close()
            return
        self.run_in_background(self.spawn_unless_closed(coroutine))

    def run_in_background(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """A task kept referenced until it ends (the loop holds only weak ones)."""
        self._background.add(asyncio.ensure_future(coroutine))
        self._background = {task for task in self._background if not task.done()}

    async def spawn_unless_closed(self, coroutine: Coroutine[Any, Any, object]) -> None:
        if self._scheduler is None:
            coroutine.close()
            return
        try:
            await self._scheduler.spawn(coroutine)
        except RuntimeError:  # aiojobs: the scheduler closed since run_soon was called
            coroutine.close()

    async def close(self) -> None:
        """Stop: every loop ends, every job is cancelled and awaited."""
        self._stopping.set()
        if self._scheduler is not None:
            await self._scheduler.close()
