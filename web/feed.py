"""The websocket progress feed: one Redis pub/sub connection per worker process.

Every socket following a scan, and every request waiting on one (`Prefer: wait`),
registers a Subscriber with the FeedHub. The hub
holds one pub/sub connection for all of them; it re-reads the snapshot of a scan
once Redis confirms its subscription (not when SUBSCRIBE is sent: the re-read goes
over another connection and could be served first), and everything after a
reconnection, because pub/sub drops what is published while it is not listening.
A slow socket never holds up others: its queue is bounded, and on overflow it gets
the latest snapshot, not a backlog. A socket that is idle and drained is written to in
the hub's own pass over a scan's followers (`Subscriber.write_now`), one write each and
no task switch: the feed's cost grows with the sockets, so each one must be cheap.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from coordinator.process.failure_streak import FailureStreak
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import snapshot_version_decoder
from coordinator.store.records import TERMINAL_SCAN_STATUSES
from web.ws_frame import text_frame

log = structlog.get_logger(__name__)
# Snapshots a socket may have waiting before older ones are dropped for the latest.
SUBSCRIBER_QUEUE_LIMIT = 16
# How long the hub waits for a message before serving (un)subscribe requests.
HUB_POLL_S = 0.05
# Belt and braces: every followed scan is re-read this often, whatever pub/sub says.
HUB_REFRESH_S = 5.0
HUB_RECONNECT_BACKOFF_S = 0.2
# Messages dispatched back to back before the hub looks at its (un)subscriptions.
HUB_BURST_LIMIT = 256
# Pub/sub message types: a published snapshot, and a subscription Redis confirms.
PUBLISHED_TYPES = frozenset({"message", "smessage"})
SUBSCRIBED_TYPES = frozenset({"subscribe", "ssubscribe"})


@dataclass(frozen=True)
class Frame:
    """A snapshot as its sockets send it: decoded once per worker, not per socket."""

    body: bytes
    version: int
    terminal: bool

    @functools.cached_property
    def wire(self) -> bytes:
        """The websocket frame carrying `body`, the same bytes for every socket; built
        when a socket first needs it (a request waiting on the scan never does)."""
        return text_frame(self.body)


def frame_of(body: bytes) -> Frame:
    view = snapshot_version_decoder.decode(body)
    return Frame(body, view.version, view.status in TERMINAL_SCAN_STATUSES)


@dataclass(eq=False)
class Subscriber:
    scan_id: str
    # Offered each snapshot first, in the hub's pass, while the consumer is parked in
    # next() with nothing queued (so nothing can overtake what it writes). True: the
    # consumer need not see the snapshot (written now, or not newer than what was
    # sent). False: queued for the consumer, because it could not be written now, or
    # because the consumer must still act on it (after the terminal one, it closes).
    write_now: Callable[[Frame], bool] | None = None
    queue: collections.deque[Frame] = field(
        default_factory=lambda: collections.deque(maxlen=SUBSCRIBER_QUEUE_LIMIT)
    )
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    parked: bool = False

    def offer(self, frame: Frame) -> None:
        idle = self.parked and not self.queue
        if idle and self.write_now is not None and self.write_now(frame):
            return
        if len(self.queue) == self.queue.maxlen:
            self.queue.clear()  # a slow reader gets the latest, not a backlog
        self.queue.append(frame)
        self.ready.set()

    async def next(self) -> Frame:
        while not self.queue:
            self.ready.clear()
            self.parked = True
            try:
                await self.ready.wait()
            finally:
                self.parked = False
        return self.queue.popleft()


class FeedHub:
    def __init__(self, redis: Redis, worker_id: str, autopipe: AutoPipeline | None = None) -> None:
        self._redis = redis
        # Re-reads share round trips with the process's other commands.
        self._autopipe = autopipe or AutoPipeline(redis)
        self._own_channel = keys.feed_channel(worker_id)
        self._followers: dict[str, set[Subscriber]] = {}
        self._changes: asyncio.Queue[str] = asyncio.Queue()
        self.reconnects = 0
        # Redis away: the first failed listen is logged, and the recovery, not each retry.
        self._streak = FailureStreak("feed_reconnect", "feed_reconnected")
        self._resubscribed = False
        # The live pub/sub connection and its channels, while the hub listens.
        self._pubsub = None  # type: ignore[var-annotated]
        self._subscribed: set[str] = set()
        # One (un)subscription step at a time: the listener's and a new follower's.
        self._sync_lock = asyncio.Lock()
        self._syncer: asyncio.Future[None] | None = None
        # The deadlines of requests waiting on a scan, cut short at shutdown; after it
        # began, a new wait answers at once.
        self._waits: set[asyncio.Timeout] = set()
        self._waits_ended = False

    def follow(self, scan_id: str, write_now: Callable[[Frame], bool] | None = None) -> Subscriber:
        subscriber = Subscriber(scan_id, write_now)
        self._followers.setdefault(scan_id, set()).add(subscriber)
        self._changes.put_nowait(scan_id)
        self.sync_soon()
        return subscriber

    def sync_soon(self) -> None:
        """Subscribe a new follower's scan now, not when the listener's wait for a
        message ends: a scan that ends meanwhile would reach its socket only then."""
        if self._pubsub is not None and (self._syncer is None or self._syncer.done()):
            self._syncer = asyncio.ensure_future(self.sync_changes(self._pubsub))

    async def sync_changes(self, pubsub) -> None:  # type: ignore[no-untyped-def]
        try:
            await self.sync(pubsub, refresh_all=False)
        except (RedisError, OSError) as exc:
            # The listener re-reads everything on its next turn.
            self._resubscribed = True
            log.warning("feed_sync_failed", error=repr(exc))

    async def wait_for(
        self, scan_id: str, done: Callable[[Frame], bool], wait_s: float
    ) -> Frame | None:
        """The first snapshot of the scan for which `done` holds, or when `wait_s` runs
        out (or the process shuts down) the newest one seen; None if none came. The
        hub re-reads the snapshot once subscribed, so a change published before the
        subscription is seen too."""
        newest: Frame | None = None
        if self._waits_ended:
            return newest
        async with following(self, scan_id) as subscriber:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s) as deadline:
                    self._waits.add(deadline)
                    try:
                        while True:
                            frame = await subscriber.next()
                            if newest is None or frame.version > newest.version:
                                newest = frame
                            if done(frame):
                                return frame
                    finally:
                        self._waits.discard(deadline)
        return newest

    @property
    def waiting(self) -> int:
        """Requests waiting on a scan now."""
        return len(self._waits)

    def end_waits(self) -> None:
        """Shutting down: every waiting request answers now with what it has, and so
        does every later one."""
        self._waits_ended = True
        now = asyncio.get_running_loop().time()
        for deadline in list(self._waits):
            if not deadline.expired():  # an expiring one is already on its way out
                deadline.reschedule(now)

    def leave(self, subscriber: Subscriber) -> None:
        followers = self._followers.get(subscriber.scan_id)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._followers[subscriber.scan_id]
                self._changes.put_nowait(subscriber.scan_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until stopped, reconnecting (and re-reading everything) after errors."""
        while not stop.is_set():
            try:
                await self.listen(stop)
            except (RedisError, OSError) as exc:
                self.reconnects += 1
                self._streak.failed(exc)
                await asyncio.sleep(HUB_RECONNECT_BACKOFF_S)

    async def listen(self, stop: asyncio.Event) -> None:
        # Subscription confirmations are needed: each one triggers its scan's re-read.
        async with self._redis.pubsub(ignore_subscribe_messages=False) as pubsub:
            await pubsub.subscribe(self._own_channel)
            self._streak.succeeded()
            # redis-py reconnects and resubscribes by itself, raising nothing:
            # hear of it, since what was published meanwhile is lost.
            connection = getattr(pubsub, "connection", None)
            if connection is not None:
                connection.register_connect_callback(self.on_reconnect)
            try:
                await self.serve(pubsub, stop)
            finally:
                if connection is not None:
                    connection.deregister_connect_callback(self.on_reconnect)

    async def serve(self, pubsub, stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
        self._subscribed = set()
        try:
            self._pubsub = pubsub
            await self.listen_on(pubsub, stop)
        finally:
            self._pubsub = None
            if self._syncer is not None:
                self._syncer.cancel()  # its connection is going: the next one re-reads all

    async def listen_on(self, pubsub, stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
        await self.sync(pubsub, refresh_all=True)
        loop = asyncio.get_running_loop()
        refresh_at = loop.time() + HUB_REFRESH_S
        while not stop.is_set():
            message = await pubsub.get_message(timeout=HUB_POLL_S)
            # A burst (many owners publishing at once) is dispatched in one go; the
            # (un)subscriptions are brought up to date between bursts, not per message.
            burst = 0
            confirmed: list[str] = []
            while message is not None:
                channel = message["channel"].decode() if message["channel"] else None
                if channel is not None and channel != self._own_channel:
                    if message["type"] in PUBLISHED_TYPES:
                        self.dispatch(channel, message["data"])
                    elif message["type"] in SUBSCRIBED_TYPES:
                        confirmed.append(keys.scan_id_of_events_channel(channel))
                burst += 1
                if burst >= HUB_BURST_LIMIT:
                    break
                message = await pubsub.get_message(timeout=0)
            # Subscribed for sure now: what was published before is in the snapshot.
            followed = [scan_id for scan_id in confirmed if scan_id in self._followers]
            if followed:
                await self.reread(followed)
            refresh_all = self._resubscribed or loop.time() >= refresh_at
            if refresh_all:
                self._resubscribed = False
                refresh_at = loop.time() + HUB_REFRESH_S
            if refresh_all or not self._changes.empty():
                await self.sync(pubsub, refresh_all=refresh_all)

    async def on_reconnect(self, connection: object) -> None:
        self.reconnects += 1
        self._resubscribed = True
        log.warning("feed_resubscribed")

    async def sync(self, pubsub, *, refresh_all: bool) -> None:  # type: ignore[no-untyped-def]
        """Apply pending (un)subscriptions, then re-read the snapshots that may be stale."""
        async with self._sync_lock:
            await self.sync_locked(pubsub, refresh_all=refresh_all)

    async def sync_locked(self, pubsub, *, refresh_all: bool) -> None:  # type: ignore[no-untyped-def]
        subscribed = self._subscribed
        changed: set[str] = set()
        while not self._changes.empty():
            changed.add(self._changes.get_nowait())
        # Only the scans whose followers changed are looked at (a socket opening on a
        # process that follows 10,000 scans must not cost 10,000 channel names); all of
        # them after a reconnection, whose new connection starts with none subscribed.
        candidates = self._followers.keys() | changed if refresh_all else changed
        wanted = {keys.events_channel(s) for s in candidates if s in self._followers}
        to_add = wanted - subscribed
        if refresh_all:
            to_drop = subscribed - wanted
        else:
            to_drop = {keys.events_channel(s) for s in changed if s not in self._followers}
            to_drop &= subscribed
        if to_add:
            await pubsub.subscribe(*to_add)
        if to_drop:
            await pubsub.unsubscribe(*to_drop)
        subscribed.difference_update(to_drop)
        subscribed.update(to_add)
        # A scan just subscribed is re-read when Redis confirms it (listen_on).
        added = {keys.scan_id_of_events_channel(channel) for channel in to_add}
        followed = self._followers.keys()
        stale = (set(followed) if refresh_all else (changed & followed)) - added
        if stale:
            await self.reread(sorted(stale))

    async def reread(self, scan_ids: list[str]) -> None:
        def queue(pipe: Pipeline) -> None:
            for scan_id in scan_ids:
                pipe.hget(keys.scan(scan_id), "snap")

        bodies = await self._autopipe.run(queue)
        for scan_id, body in zip(scan_ids, bodies, strict=True):
            if body is not None:
                self.deliver(scan_id, body)

    def dispatch(self, channel: str, body: bytes) -> None:
        scan_id = keys.scan_id_of_events_channel(channel)
        self.deliver(scan_id, body)

    def deliver(self, scan_id: str, body: bytes) -> None:
        followers = self._followers.get(scan_id)
        if not followers:
            return
        frame = frame_of(body)
        for subscriber in followers:
            subscriber.offer(frame)


@contextlib.asynccontextmanager
async def following(  # type: ignore[no-untyped-def]
    hub: FeedHub, scan_id: str, write_now: Callable[[Frame], bool] | None = None
):
    subscriber = hub.follow(scan_id, write_now)
    try:
        yield subscriber
    finally:
        hub.leave(subscriber)
