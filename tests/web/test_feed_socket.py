"""The feed's fast path: a snapshot reaches an idle socket in the hub's own pass, as
the very bytes aiohttp would have sent, in version order; a terminal snapshot, a
closing socket and a slow one (its write buffer backed up) go through the socket's
sender task instead, and a parked consumer is not woken for what was written."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from aiohttp import WSMsgType
from aiohttp.http import WebSocketWriter

from web import websocket
from web.feed import Frame, Subscriber, frame_of
from web.websocket import FeedSocket, send_snapshots
from web.ws_frame import text_frame

SCAN_ID = "f" * 32


def snapshot(version: int, status: str = "running", padding: int = 0) -> bytes:
    return json.dumps(
        {"scan_id": SCAN_ID, "version": version, "status": status, "padding": "x" * padding}
    ).encode()


@dataclass
class RecordingTransport:
    """A transport that keeps what is written, with a write buffer the test sets."""

    written: list[bytes] = field(default_factory=list)
    buffered: int = 0
    closing: bool = False
    broken: bool = False

    def write(self, data: bytes) -> None:
        if self.broken:
            raise RuntimeError("unable to perform operation: the handler is closed")
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered


@dataclass
class RecordingSocket:
    """Stands for a WebSocketResponse: what the sender task sends, and whether closed."""

    transport: RecordingTransport
    closed: bool = False
    sent: list[bytes] = field(default_factory=list)

    async def send_frame(self, message: bytes, opcode: WSMsgType) -> None:
        assert opcode == WSMsgType.TEXT
        self.sent.append(message)

    async def close(self, **_: object) -> bool:
        self.closed = True
        return True


class IdleProtocol:
    _paused = False


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
async def test_a_frame_is_the_bytes_aiohttps_writer_sends(size: int) -> None:
    """Each length encoding (7-bit, 16-bit, 64-bit) at and across its bounds."""
    payload = b"y" * size
    transport = RecordingTransport()
    writer = WebSocketWriter(IdleProtocol(), transport, use_mask=False)  # type: ignore[arg-type]
    await writer.send_frame(payload, WSMsgType.TEXT)
    assert text_frame(payload) == b"".join(transport.written)


def feed_socket() -> tuple[FeedSocket, RecordingSocket]:
    transport = RecordingTransport()
    ws = RecordingSocket(transport)
    return FeedSocket(ws, transport), ws  # type: ignore[arg-type]


def test_an_idle_socket_is_written_at_once_and_only_with_newer_versions() -> None:
    socket, ws = feed_socket()
    assert socket.write_now(frame_of(snapshot(2)))
    assert socket.write_now(frame_of(snapshot(1)))  # older: nothing to do
    assert socket.write_now(frame_of(snapshot(2)))  # a re-read of the same version
    assert socket.write_now(frame_of(snapshot(3)))
    assert ws.transport.written == [text_frame(snapshot(2)), text_frame(snapshot(3))]
    assert socket.sent_version == 3


def test_a_terminal_snapshot_is_written_at_once_and_still_goes_to_the_task() -> None:
    """The task closes the socket after it."""
    socket, ws = feed_socket()
    final = frame_of(snapshot(2, "completed"))
    assert not socket.write_now(final)
    assert ws.transport.written == [final.wire]
    assert socket.sent_version == 2


@pytest.mark.parametrize("case", ["closed", "closing", "slow", "write_fails"])
def test_what_the_hub_leaves_to_the_sender_task(case: str) -> None:
    socket, ws = feed_socket()
    ws.closed = case == "closed"
    ws.transport.closing = case == "closing"
    ws.transport.broken = case == "write_fails"
    if case == "slow":
        ws.transport.buffered = websocket.DIRECT_WRITE_BUFFER_LIMIT_BYTES + 1
    assert not socket.write_now(frame_of(snapshot(2)))
    assert ws.transport.written == []
    assert socket.sent_version == 0


async def parked(subscriber: Subscriber) -> None:
    """Wait (a step of the loop at a time) until the consumer took everything queued
    and waits in next() again."""
    for _ in range(100):
        if subscriber.parked and not subscriber.queue:
            return
        await asyncio.sleep(0)
    raise AssertionError("the sender task never waited for a snapshot")


async def test_snapshots_go_out_in_order_whichever_path_takes_them() -> None:
    socket, ws = feed_socket()
    subscriber = Subscriber(SCAN_ID, socket.write_now)
    subscriber.offer(frame_of(snapshot(2)))  # before the task runs: queued
    sender = asyncio.ensure_future(send_snapshots(socket, subscriber, frame_of(snapshot(1))))
    await parked(subscriber)
    assert ws.sent == [snapshot(1), snapshot(2)]

    subscriber.offer(frame_of(snapshot(3)))  # idle: written in the hub's pass
    assert ws.transport.written == [text_frame(snapshot(3))]
    assert not subscriber.queue and not subscriber.ready.is_set(), "the task was woken"

    ws.transport.buffered = websocket.DIRECT_WRITE_BUFFER_LIMIT_BYTES + 1  # a slow reader
    subscriber.offer(frame_of(snapshot(4)))
    ws.transport.buffered = 0  # drained, but 4 still waits for the task:
    subscriber.offer(frame_of(snapshot(5)))  # queued behind it, never written ahead of it
    assert ws.transport.written == [text_frame(snapshot(3))]
    await parked(subscriber)
    assert ws.sent[2:] == [snapshot(4), snapshot(5)]

    ws.transport.buffered = 0
    subscriber.offer(frame_of(snapshot(6, "completed")))  # written by the hub, closed by the task
    await asyncio.wait_for(sender, timeout=5)
    assert ws.transport.written[1:] == [text_frame(snapshot(6, "completed"))]
    assert len(ws.sent) == 4 and ws.closed


async def test_a_terminal_snapshot_the_hub_cannot_write_is_sent_by_the_task() -> None:
    socket, ws = feed_socket()
    subscriber = Subscriber(SCAN_ID, socket.write_now)
    sender = asyncio.ensure_future(send_snapshots(socket, subscriber, frame_of(snapshot(1))))
    await parked(subscriber)
    ws.transport.buffered = websocket.DIRECT_WRITE_BUFFER_LIMIT_BYTES + 1
    subscriber.offer(frame_of(snapshot(2, "failed")))
    await asyncio.wait_for(sender, timeout=5)
    assert ws.sent == [snapshot(1), snapshot(2, "failed")] and ws.closed
    assert ws.transport.written == []


async def test_a_consumer_that_stopped_waiting_is_not_written_to() -> None:
    """Once its task was cancelled out of next(), the socket is no longer idle."""
    socket, ws = feed_socket()
    subscriber = Subscriber(SCAN_ID, socket.write_now)
    waiting = asyncio.ensure_future(subscriber.next())
    await parked(subscriber)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    subscriber.offer(frame_of(snapshot(2)))
    assert ws.transport.written == [] and len(subscriber.queue) == 1


async def test_a_consumer_without_a_fast_path_gets_everything_queued() -> None:
    subscriber = Subscriber(SCAN_ID)
    waiting = asyncio.ensure_future(subscriber.next())
    await parked(subscriber)
    frame: Frame = frame_of(snapshot(7))
    subscriber.offer(frame)
    assert await asyncio.wait_for(waiting, timeout=5) is frame
