"""Automatic pipelining: Redis commands issued while a round trip is in flight go
together in the next one.

A worker runs many strategy tasks at once, and each used to pay its own round
trip for every check, report and acknowledgement. Through an AutoPipeline the
first caller's commands leave at once; whatever the other tasks queue meanwhile
leaves in one pipeline when that round trip returns. Replies and errors go back
to each caller as if it had sent its commands alone (no MULTI: each caller's
commands are only as atomic as before, i.e. each command or script on its own).

Callers whose requests one command can serve together (the appends to one scan's
mailbox, the acknowledgements on one work stream, the reads of one scan) go as a
*group*: one command carries all of them, and each caller gets its share of the
reply. A command costs the client far more than the bytes it carries.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection, ConnectionPool
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from coordinator.store.redis_client import connections_can_be_held
from coordinator.store.scripts import ScriptCall, queue_call

Queue = Callable[[Pipeline], object]
# Queues exactly one command for every item of a group: (pipe, group key, items).
GroupQueue = Callable[[Pipeline, Any, Sequence[Any]], object]
# That command's reply -> one reply per item, in item order: (reply, item count).
GroupSplit = Callable[[Any, int], Sequence[Any]]
R = TypeVar("R")


def same_reply(reply: Any, count: int) -> list[Any]:
    """Split of a read that answers every caller of the group alike."""
    return [reply] * count


class Waiting:
    """What callers wait for in the next round trip: the commands they queue, and the
    futures their replies go to."""

    futures: list[asyncio.Future[Any]]

    def queue_on(self, pipe: Pipeline) -> None:
        raise NotImplementedError

    def resolve(self, replies: list[Any]) -> None:
        """Hand out the replies to exactly the commands queue_on queued."""
        raise NotImplementedError

    def fail(self, exc: BaseException) -> None:
        for future in self.futures:
            if not future.done():  # its caller was cancelled meanwhile
                future.set_exception(exc)

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()


class Single(Waiting):
    """One caller's commands; its replies, or the first error among them."""

    __slots__ = ("futures", "queue")

    def __init__(self, queue: Queue, future: asyncio.Future[list[Any]]) -> None:
        self.queue = queue
        self.futures = [future]

    def queue_on(self, pipe: Pipeline) -> None:
        self.queue(pipe)

    def resolve(self, replies: list[Any]) -> None:
        failed = next((reply for reply in replies if isinstance(reply, Exception)), None)
        if failed is not None:
            self.fail(failed)
        elif not self.futures[0].done():
            self.futures[0].set_result(replies)


class Group(Waiting):
    """The items of one group: one command, and each caller's share of its reply."""

    __slots__ = ("futures", "items", "key", "queue", "split")

    def __init__(self, queue: GroupQueue, split: GroupSplit, key: Hashable) -> None:
        self.queue = queue
        self.split = split
        self.key = key
        self.items: list[Any] = []
        self.futures = []

    def queue_on(self, pipe: Pipeline) -> None:
        self.queue(pipe, self.key, self.items)

    def resolve(self, replies: list[Any]) -> None:
        (reply,) = replies
        if isinstance(reply, Exception):
            self.fail(reply)
            return
        for future, mine in zip(self.futures, self.split(reply, len(self.items)), strict=True):
            if not future.done():
                future.set_result(mine)


class AutoPipeline:
    def __init__(self, redis: Redis, round_trip_timeout_s: float | None = None) -> None:
        """``round_trip_timeout_s``: a bound on each whole round trip, for a client made
        without a socket timeout (see coordinator.store.redis_client.connect): one timer per
        round trip instead of one per reply."""
        self._redis = redis
        self._round_trip_timeout_s = round_trip_timeout_s
        self._waiting: list[Waiting] = []
        self._groups: dict[tuple[GroupQueue, Hashable], Group] = {}
        self._flusher: asyncio.Task[None] | None = None
        # The pool and the connection held while round trips follow one another.
        self._held: tuple[ConnectionPool, Connection] | None = None

    async def run(self, queue: Queue) -> list[Any]:
        """Queue commands with ``queue(pipe)``; return their replies once sent."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append(Single(queue, future))
        self.flush_soon()
        return await future

    async def call(self, call: ScriptCall[R]) -> R:
        """One script call sent with the others waiting (see coordinator.store.scripts);
        its reply, as the call reads it."""
        (reply,) = await self.run(lambda pipe: queue_call(pipe, call))
        return call.reply(reply)

    async def run_grouped(
        self, queue: GroupQueue, split: GroupSplit, key: Hashable, item: Any
    ) -> Any:
        """Send ``item`` with the other items of group ``key`` waiting for the same
        round trip, in one command ``queue(pipe, key, items)``; return this item's
        share of its reply, ``split(reply, len(items))[position]``."""
        (share,) = await self.run_grouped_all(queue, split, key, [item])
        return share

    async def run_grouped_all(
        self, queue: GroupQueue, split: GroupSplit, key: Hashable, items: Sequence[Any]
    ) -> list[Any]:
        """run_grouped for several items of one caller: each one's share, in order."""
        group = self._groups.get((queue, key))
        if group is None:
            group = self._groups[(queue, key)] = Group(queue, split, key)
            self._waiting.append(group)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in items]
        group.items.extend(items)
        group.futures.extend(futures)
        self.flush_soon()
        return [await future for future in futures]

    def flush_soon(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        while self._waiting:
            try:
                await self.send_all_waiting()
            finally:
                # Callers may queue while the connection goes back: checked again after.
                await self.release_connection()

    async def send_all_waiting(self) -> None:
        """Round trips back to back while callers keep queueing."""
        while self._waiting:
            batch, self._waiting, self._groups = self._waiting, [], {}
            try:
                await self.send(batch)
            except asyncio.CancelledError:
                for waiting in batch:
                    waiting.cancel()
                raise
            except Exception as exc:  # a lost connection fails everyone in the batch
                for waiting in batch:
                    waiting.fail(exc)

    async def send(self, batch: list[Waiting]) -> None:
        spans = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for waiting in batch:
                start = len(pipe)
                # Never awaited: a queued command returns the pipeline itself, and
                # awaiting a Cluster pipeline re-initialises it, dropping what is queued.
                waiting.queue_on(pipe)
                spans.append((start, len(pipe)))
            try:
                async with asyncio.timeout(self._round_trip_timeout_s):
                    replies = await self.execute(pipe)
            except TimeoutError:
                # redis-py dropped the connection as the read was cancelled; the
                # callers see what a socket timeout would have raised.
                raise RedisTimeoutError("auto-pipelined round trip timed out") from None
        for waiting, (start, end) in zip(batch, spans, strict=True):
            waiting.resolve(replies[start:end])

    async def execute(self, pipe: Pipeline) -> list[Any]:
        """The replies to a pipeline's commands, errors among them as values.

        A single Redis's pipeline (Sentinel's too) goes straight over a connection
        held while round trips follow one another: Pipeline.execute wraps each round
        trip in layers this sender has no use for (a pool checkout with its lock,
        timer and liveness probe, HIMPORT preparation, observability hooks, a reset),
        which cost about a quarter of a 20-command round trip (given back after
        each one where it must not be held, see connections_can_be_held). Cluster
        pipelines, and any command that asks for special reply handling, go through
        redis-py."""
        if (
            type(pipe) is not Pipeline
            or pipe.scripts
            or any(NEVER_DECODE in opts or EMPTY_RESPONSE in opts for _, opts in pipe.command_stack)
        ):
            return await pipe.execute(raise_on_error=False)
        pool = pipe.connection_pool
        if self._held is None:
            self._held = (pool, await pool.get_connection())
        _pool, connection = self._held
        try:
            # As Pipeline.execute does: a lost connection is dropped and the whole
            # round trip tried again after reconnecting, as the client's retry policy says.
            return await connection.retry.call_with_retry(
                lambda: exchange(connection, pipe.command_stack, pipe.response_callbacks),
                lambda _error: connection.disconnect(),
            )
        finally:
            if not connections_can_be_held(pool):
                await self.release_connection()

    async def release_connection(self) -> None:
        if self._held is not None:
            (pool, connection), self._held = self._held, None
            await pool.release(connection)


async def exchange(
    connection: Connection,
    commands: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
    callbacks: Mapping[str, Callable[..., Any]],
) -> list[Any]:
    """Write every command at once, then read every reply (a reading error drops the
    connection in redis-py, so a cancelled round trip never leaves replies unread)."""
    await connection.send_packed_command(connection.pack_commands([args for args, _ in commands]))
    replies: list[Any] = []
    for args, options in commands:
        try:
            reply = await connection.read_response()
        except ResponseError as exc:
            replies.append(exc)
            continue
        callback = callbacks.get(args[0])
        if callback is not None:
            reply = callback(reply, **{k: v for k, v in options.items() if k != "keys"})
            if inspect.isawaitable(reply):
                reply = await reply
        replies.append(reply)
    return replies
