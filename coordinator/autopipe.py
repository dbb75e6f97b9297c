"""Automatic pipelining: Redis commands issued while a round trip is in flight go
together in the next one.

A worker runs many strategy tasks at once, and each used to pay its own round
trip for every check, report and acknowledgement. Through an AutoPipeline the
first caller's commands leave at once; whatever the other tasks queue meanwhile
leaves in one pipeline when that round trip returns. Replies and errors go back
to each caller as if it had sent its commands alone (no MULTI: each caller's
commands are only as atomic as before, i.e. each command or script on its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

Queue = Callable[[Pipeline], object]


class AutoPipeline:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: list[tuple[Queue, asyncio.Future[list[Any]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, queue: Queue) -> list[Any]:
        """Queue commands with ``queue(pipe)``; return their replies once sent."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((queue, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self.flush())
        return await future

    async def flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self.send(batch)
            except asyncio.CancelledError:
                for _queue, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # a lost connection fails everyone in the batch
                for _queue, future in batch:
                    if not future.done():
                        future.set_exception(exc)

    async def send(self, batch: list[tuple[Queue, asyncio.Future[list[Any]]]]) -> None:
        spans = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for queue, _future in batch:
                start = len(pipe)
                # Never awaited: a queued command returns the pipeline itself, and
                # awaiting a Cluster pipeline re-initialises it, dropping what is queued.
                queue(pipe)
                spans.append((start, len(pipe)))
            replies = await pipe.execute(raise_on_error=False)
        for (_queue, future), (start, end) in zip(batch, spans, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            mine = replies[start:end]
            failed = next((reply for reply in mine if isinstance(reply, Exception)), None)
            if failed is not None:
                future.set_exception(failed)
            else:
                future.set_result(mine)
