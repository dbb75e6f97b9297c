"""Issue 4's fan-out: CLIENTS_PER_SCAN websocket clients on each of SCANS running scans;
delay from the owner's publish to each client's receipt.

The publish time is the snapshot's `updated_at`, which the owner stamps (ms precision)
just before its publish script runs: the delay therefore includes the publish round trip
itself, and the client's own event-loop lag. The scans' strategies wait on simulated
market data (the runner's MARKET_DATA_LATENCY_MS), so they are still running when every
client is connected; only messages received after the last client connected count (the
connection storm is not fan-out), and the first message of each socket (the snapshot
read on connect) never does. The sockets are spread over CLIENT_PROCESSES processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import msgspec

from bench.stats import latency_summary

SCANS = 100
CLIENTS_PER_SCAN = 10
FANOUT = 14
CONNECT_CONCURRENCY = 50
# The 1,000 sockets are spread over this many client processes, so one client
# event loop draining a burst of 1,000 messages is not what gets measured.
CLIENT_PROCESSES = 4
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


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    scans = int(params.get("scans", SCANS))
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
            target=follow_shard, args=(shard, len(sockets), connected, all_connected, results)
        )
        for shard in shards
    ]
    for worker in workers:
        worker.start()
    gathered = await asyncio.to_thread(lambda: [results.get() for _ in workers])
    for worker in workers:
        worker.join()
    delays = [delay for shard_delays, _ in gathered for delay in shard_delays]
    return {
        **latency_summary(delays),
        "clients": len(sockets),
        "client_processes": processes,
        "clients_saw_terminal": sum(terminal for _, terminal in gathered),
    }


def follow_shard(
    sockets: list[Socket], total: int, connected: Any, all_connected: Any, results: Any
) -> None:
    """One client process: follows its share of the sockets, reports its delays."""
    results.put(asyncio.run(follow_all(sockets, total, connected, all_connected)))


async def follow_all(
    sockets: list[Socket], total: int, connected: Any, all_connected: Any
) -> tuple[list[float], int]:
    delays: list[float] = []
    terminal = 0
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    counting = False

    async def follow(socket: Socket) -> None:
        nonlocal terminal, counting
        async with gate:
            ws = await session.ws_connect(socket.url, headers=socket.headers)
        with connected.get_lock():
            connected.value += 1
            if connected.value == total:
                all_connected.set()
        first, last_status = True, ""
        async for message in ws:
            received = time.time()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            stamp = stamp_decoder.decode(message.data)
            last_status = stamp.status
            # The connection storm is not fan-out: count once every client is in.
            counting = counting or all_connected.is_set()
            if not first and counting:
                delays.append(received - datetime.fromisoformat(stamp.updated_at).timestamp())
            first = False
        await ws.close()
        if last_status in TERMINAL:
            terminal += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(follow(socket) for socket in sockets))
    return delays, terminal
