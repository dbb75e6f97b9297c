"""Websocket fan-out: CLIENTS_PER_SCAN websocket clients on each of SCANS running scans;
delay from the owner's publish to each client's receipt.

The publish time is the snapshot's `updated_at`, which the owner stamps (ms precision)
just before its publish script runs: the delay therefore includes the publish round trip
itself, and the client's own event-loop lag. The scans' strategies wait on simulated
market data (the runner's MARKET_DATA_LATENCY_MS), so they are still running when every
client is connected; only messages received after the last client connected count (the
connection storm is not fan-out), and the first message of each socket (the snapshot
read on connect) never does. The sockets are spread over CLIENT_PROCESSES processes.

Two clients (params["client"]): `picows`, whose frame callback runs as the bytes are
parsed, so the receipt time is when the message reached the client process, as a
load generator should take it; and `aiohttp`, whose receipt is when the socket's task
got to the message, after every message queued ahead of it in a process following 250
sockets on the same 2 cores as the service (the measure of every run before
2026-11-26 11:45 UTC).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from bench.stats import latency_summary

SCANS = 100
CLIENTS_PER_SCAN = 10
FANOUT = 14
CONNECT_CONCURRENCY = 50
# The 1,000 sockets are spread over this many client processes, so one client
# event loop draining a burst of 1,000 messages is not what gets measured.
CLIENT_PROCESSES = 4
# How often the driver looks whether a client process died while it waits for results.
CLIENT_POLL_S = 1.0
TERMINAL = ("completed", "partial", "failed", "cancelled")


class Stamp(msgspec.Struct):
    version: int
    updated_at: str
    status: str


stamp_decoder = msgspec.json.Decoder(Stamp)


@dataclass(frozen=True)
class Socket:
    url: str
    headers: dict[str, str]


def collect(results: Any, workers: list[Any]) -> list[tuple[list[float], int]]:
    """Each client process's result; raises, rather than waiting forever, if one died."""
    gathered: list[tuple[list[float], int]] = []
    while len(gathered) < len(workers):
        try:
            gathered.append(results.get(timeout=CLIENT_POLL_S))
        except queue.Empty:
            failed = [worker.exitcode for worker in workers if worker.exitcode]
            if failed:
                raise RuntimeError(f"a client process exited with code {failed[0]}") from None
    return gathered


class NoMessagesMeasured(RuntimeError):
    """Every scan ended before the last client connected: nothing was fan-out."""


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    scans = int(params.get("scans", SCANS))
    client_kind = str(params.get("client", "picows"))
    per_scan = int(params.get("clients_per_scan", CLIENTS_PER_SCAN))
    processes = int(params.get("client_processes", CLIENT_PROCESSES))
    names = [f"noop_{n:02d}" for n in range(1, FANOUT + 1)]
    users = [f"fan-{params.get('round', 0)}-{n}" for n in range(scans)]
    scan_ids = await asyncio.gather(*(client.submit(user, names) for user in users))
    sockets = [
        Socket(f"{client.base_url}/api/v1/scans/{scan_id}/ws", client.headers(user))
        for user, scan_id in zip(users, scan_ids, strict=True)
        for _ in range(per_scan)
    ]
    context = multiprocessing.get_context("spawn")
    connected = context.Value("i", 0)
    all_connected = context.Event()
    results = context.Queue()
    shards = [sockets[i::processes] for i in range(processes)]
    workers = [
        context.Process(
            target=follow_shard,
            args=(client_kind, shard, len(sockets), connected, all_connected, results),
        )
        for shard in shards
    ]
    for worker in workers:
        worker.start()
    try:
        gathered = await asyncio.to_thread(collect, results, workers)
    except BaseException:
        for worker in workers:
            worker.terminate()  # the others are stopped, not left to outlive the driver
        raise
    finally:
        for worker in workers:
            worker.join()
    delays = [delay for shard_delays, _ in gathered for delay in shard_delays]
    if not delays:
        raise NoMessagesMeasured(f"no snapshot reached a {client_kind} client after all connected")
    return {
        **latency_summary(delays),
        "client": client_kind,
        "clients": len(sockets),
        "client_processes": processes,
        "clients_saw_terminal": sum(terminal for _, terminal in gathered),
    }


def follow_shard(
    client_kind: str,
    sockets: list[Socket],
    total: int,
    connected: Any,
    all_connected: Any,
    results: Any,
) -> None:
    """One client process: follows its share of the sockets, reports its delays."""
    follow_all = FOLLOWERS[client_kind]
    results.put(uvloop.run(follow_all(sockets, Receipts(total, connected, all_connected))))


class Receipts:
    """One client process's delays: a message counts once every client is connected,
    and never the first of its socket (the snapshot read on connect)."""

    def __init__(self, total: int, connected: Any, all_connected: Any) -> None:
        self.total = total
        self.connected = connected
        self.all_connected = all_connected
        self.counting = False
        self.delays: list[float] = []
        self.saw_terminal = 0

    def socket_connected(self) -> None:
        with self.connected.get_lock():
            self.connected.value += 1
            if self.connected.value == self.total:
                self.all_connected.set()

    def note(self, payload: bytes, received: float, first: bool) -> str:
        """Record one message received at `received`; its scan's status."""
        stamp = stamp_decoder.decode(payload)
        self.counting = self.counting or self.all_connected.is_set()
        if not first and self.counting:
            self.delays.append(received - datetime.fromisoformat(stamp.updated_at).timestamp())
        return stamp.status

    def socket_ended(self, last_status: str) -> None:
        self.saw_terminal += last_status in TERMINAL

    def result(self) -> tuple[list[float], int]:
        return self.delays, self.saw_terminal


async def follow_with_aiohttp(sockets: list[Socket], receipts: Receipts) -> tuple[list[float], int]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def follow(socket: Socket) -> None:
        async with gate:
            ws = await session.ws_connect(socket.url, headers=socket.headers)
        receipts.socket_connected()
        first, last_status = True, ""
        async for message in ws:
            received = time.time()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            last_status = receipts.note(message.data, received, first)
            first = False
        await ws.close()
        receipts.socket_ended(last_status)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(follow(socket) for socket in sockets))
    return receipts.result()


class StampListener(WSListener):
    """Notes each snapshot as its frame is parsed; answers the server's close."""

    def __init__(self, receipts: Receipts) -> None:
        self.receipts = receipts
        self.first = True
        self.last_status = ""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        received = time.time()
        if frame.msg_type == WSMsgType.TEXT:
            payload = frame.get_payload_as_bytes()
            self.last_status = self.receipts.note(payload, received, self.first)
            self.first = False
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


async def follow_with_picows(sockets: list[Socket], receipts: Receipts) -> tuple[list[float], int]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def follow(socket: Socket) -> None:
        listener = StampListener(receipts)
        async with gate:
            transport, _ = await ws_connect(
                lambda: listener,
                socket.url.replace("http", "ws", 1),
                extra_headers=socket.headers,
            )
        receipts.socket_connected()
        await transport.wait_disconnected()
        receipts.socket_ended(listener.last_status)

    await asyncio.gather(*(follow(socket) for socket in sockets))
    return receipts.result()


FOLLOWERS = {"aiohttp": follow_with_aiohttp, "picows": follow_with_picows}
