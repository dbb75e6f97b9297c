"""GET /api/v1/scans/{id}/ws: the snapshot on connect and on every change, in
version order; a normal close after a terminal snapshot; a policy-violation
close, before any data, for a scan that is not the caller's."""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from aiohttp import WSCloseCode, WSMsgType, web

from coordinator.errors import ScanExpired, ScanNotFound
from coordinator.service.connection_slots import ConnectionKind
from web.auth import principal_of
from web.feed import Frame, Subscriber, following, frame_of
from web.keys import FEED, SCANS
from web.limits import holding
from web.metrics import OPEN_WEBSOCKETS

# Ping every this many seconds; a client that misses the pong is dropped.
HEARTBEAT_S = 20.0
# Browsers cannot set headers: they may send the token as `bearer, <token>` here.
SUBPROTOCOLS = ("bearer",)
SOCKETS = web.AppKey("open_sockets", weakref.WeakSet[web.WebSocketResponse])
# A socket with more than this waiting in its write buffer (a slow client) no longer
# takes snapshots in the hub's pass: its sender task sends them, waiting on aiohttp's
# flow control, and its queue keeps only the latest. It is the transports' default
# high-water mark (asyncio's and uvloop's), past which aiohttp's writer would wait too.
DIRECT_WRITE_BUFFER_LIMIT_BYTES = 64 * 1024


class FeedSocket:
    """One websocket following a scan: the newest version it was sent, and the hub's
    way to send it a snapshot in its own pass (one write of bytes built once per
    worker) instead of waking the socket's task: with a thousand sockets on a worker,
    the task switches were the larger part of a fan-out's cost."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self.ws = ws
        self.transport = transport
        self.sent_version = 0

    def write_now(self, frame: Frame) -> bool:
        """Send `frame` at once if the socket can take it without waiting; True when
        the sender task needs to do nothing about it (sent now, or not newer than what
        was sent). A terminal snapshot, sent now or not, still goes to the task: it
        closes the socket after it.

        The frame goes to the transport as it is, past aiohttp's writer: it is what
        that writer would write (uncompressed: the socket is made with compress=False,
        so no extension is negotiated), and each write is one whole frame, so it never
        splits one of aiohttp's own (a ping, the close)."""
        if frame.version <= self.sent_version:
            return True
        if (
            self.ws.closed
            or self.transport.is_closing()
            or self.transport.get_write_buffer_size() > DIRECT_WRITE_BUFFER_LIMIT_BYTES
        ):
            return False
        try:
            self.transport.write(frame.wire)
        except (OSError, RuntimeError):  # the connection went: the task finds out
            return False
        self.sent_version = frame.version
        return not frame.terminal


async def scan_feed(request: web.Request) -> web.WebSocketResponse:
    scan_id = request.match_info["scan_id"]
    user = principal_of(request).user_id
    # Read before the upgrade, so Redis being down is an HTTP 503 with Retry-After
    # rather than an error written into an upgraded connection.
    try:
        first: Frame | None = frame_of((await request.config_dict[SCANS].read(scan_id, user)).body)
    except (ScanNotFound, ScanExpired):
        first = None
    if first is None:
        return await refuse_not_found(request)
    # The user's slot is taken before the upgrade, so one over the limit is an HTTP
    # 429 with Retry-After rather than a socket closed right after it opened.
    async with holding(request, ConnectionKind.WEBSOCKET):
        return await follow_scan(request, scan_id, first)


def feed_socket() -> web.WebSocketResponse:
    # Snapshots are small; per-message compression would cost more CPU than it saves.
    # `bearer` is the subprotocol a browser offers with its token (`bearer, <token>`):
    # the answer names it, one of those offered, as the browser requires.
    return web.WebSocketResponse(heartbeat=HEARTBEAT_S, protocols=SUBPROTOCOLS, compress=False)


async def refuse_not_found(request: web.Request) -> web.WebSocketResponse:
    ws = feed_socket()
    await ws.prepare(request)
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"scan not found")
    return ws


async def follow_scan(request: web.Request, scan_id: str, first: Frame) -> web.WebSocketResponse:
    ws = feed_socket()
    await ws.prepare(request)
    transport = request.transport
    if transport is None:  # the client left during the upgrade
        return ws
    request.config_dict[SOCKETS].add(ws)
    OPEN_WEBSOCKETS.inc()
    try:
        if first.terminal:
            # It already ended (a quick scan often has by the time its socket opens):
            # the last snapshot and a normal close, with nothing to follow.
            await send_last(ws, first)
        else:
            # Followed from now on: once subscribed, the hub re-reads the snapshot,
            # so a change published between the read above and the subscription
            # still reaches the socket.
            socket = FeedSocket(ws, transport)
            feed = request.config_dict[FEED]
            async with following(feed, scan_id, socket.write_now) as subscriber:
                await serve_feed(socket, subscriber, first)
    finally:
        OPEN_WEBSOCKETS.dec()
    return ws


async def serve_feed(socket: FeedSocket, subscriber: Subscriber, first: Frame) -> None:
    ws = socket.ws
    sender = asyncio.ensure_future(send_snapshots(socket, subscriber, first))
    try:
        async for _message in ws:  # only this task reads the socket; clients send nothing
            pass
    finally:
        sender.cancel()
        # A client gone, or a socket closed at shutdown, mid-send: nothing to report.
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await sender


async def send_snapshots(socket: FeedSocket, subscriber: Subscriber, first: Frame) -> None:
    """Send each newer snapshot the hub did not write itself; close normally after the
    terminal one (which the hub may have written)."""
    frame = first
    while True:
        if frame.version > socket.sent_version:
            socket.sent_version = frame.version
            await socket.ws.send_frame(frame.body, WSMsgType.TEXT)
        if frame.terminal:
            await close_finished(socket.ws)
            return
        frame = await subscriber.next()


async def send_last(ws: web.WebSocketResponse, frame: Frame) -> None:
    await ws.send_frame(frame.body, WSMsgType.TEXT)
    await close_finished(ws)


async def close_finished(ws: web.WebSocketResponse) -> None:
    await ws.close(code=WSCloseCode.OK, message=b"scan finished")


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: close every open socket cleanly."""
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
