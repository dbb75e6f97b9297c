"""GET /api/v1/scans/{id}/ws: the snapshot on connect and on every change, in
version order; a normal close after a terminal snapshot; a policy-violation
close, before any data, for a scan that is not the caller's."""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from aiohttp import WSCloseCode, web

from coordinator.errors import ScanExpired, ScanNotFound
from web.auth import principal_of
from web.feed import Frame, Subscriber, following, frame_of
from web.keys import FEED, SCANS
from web.metrics import OPEN_WEBSOCKETS

# Ping every this many seconds; a client that misses the pong is dropped.
HEARTBEAT_S = 20.0
# Browsers cannot set headers: they may send the token as `bearer, <token>` here.
SUBPROTOCOLS = ("bearer",)
SOCKETS = web.AppKey("open_sockets", weakref.WeakSet[web.WebSocketResponse])


async def scan_feed(request: web.Request) -> web.WebSocketResponse:
    scan_id = request.match_info["scan_id"]
    user = principal_of(request).user_id
    # Read before the upgrade, so Redis being down is an HTTP 503 with Retry-After
    # rather than an error written into an upgraded connection.
    try:
        first: Frame | None = frame_of((await request.config_dict[SCANS].read(scan_id, user)).body)
    except (ScanNotFound, ScanExpired):
        first = None
    # Snapshots are small; per-message compression would cost more CPU than it saves.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, protocols=SUBPROTOCOLS, compress=False)
    await ws.prepare(request)
    if first is None:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"scan not found")
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
            async with following(request.config_dict[FEED], scan_id) as subscriber:
                await serve_feed(ws, subscriber, first)
    finally:
        OPEN_WEBSOCKETS.dec()
    return ws


async def serve_feed(ws: web.WebSocketResponse, subscriber: Subscriber, first: Frame) -> None:
    sender = asyncio.ensure_future(send_snapshots(ws, subscriber, first))
    try:
        async for _message in ws:  # only this task reads the socket; clients send nothing
            pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def send_snapshots(ws: web.WebSocketResponse, subscriber: Subscriber, first: Frame) -> None:
    """Send each newer snapshot; close normally after the terminal one."""
    last_version = 0
    frame = first
    while True:
        if frame.version > last_version:
            last_version = frame.version
            if frame.terminal:
                await send_last(ws, frame)
                return
            await ws.send_str(frame.text)
        frame = await subscriber.next()


async def send_last(ws: web.WebSocketResponse, frame: Frame) -> None:
    await ws.send_str(frame.text)
    await ws.close(code=WSCloseCode.OK, message=b"scan finished")


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: close every open socket cleanly."""
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
