"""Issue 4's fan-out: CLIENTS_PER_SCAN websocket clients on each of SCANS running scans;
delay from the owner's publish to each client's receipt.

The publish time is the snapshot's `updated_at`, which the owner stamps (ms precision)
just before its publish script runs: the delay therefore includes the publish round trip
itself, and the client's own event-loop lag. The scans' strategies wait on simulated
market data (the runner's MARKET_DATA_LATENCY_MS), so they are still running when every
client is connected; only
messages received after the last client connected count (the connection storm is not
fan-out), and the first message of each socket (the snapshot read on connect) never does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import aiohttp
import msgspec

from bench.stats import latency_summary

SCANS = 100
CLIENTS_PER_SCAN = 10
FANOUT = 14
CONNECT_CONCURRENCY = 50


class Stamp(msgspec.Struct):
    version: int
    updated_at: str
    status: str


stamp_decoder = msgspec.json.Decoder(Stamp)


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    scans = int(params.get("scans", SCANS))
    per_scan = int(params.get("clients_per_scan", CLIENTS_PER_SCAN))
    names = [f"noop_{n:02d}" for n in range(1, FANOUT + 1)]
    users = [f"fan-{params.get('round', 0)}-{n}" for n in range(scans)]
    scan_ids = await asyncio.gather(*(client.submit(user, names) for user in users))
    delays: list[float] = []
    closed_terminal = 0
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients = scans * per_scan
    connected = 0
    all_connected = asyncio.Event()

    async def follow(user: str, scan_id: str) -> None:
        nonlocal closed_terminal, connected
        async with gate:
            ws = await client.session.ws_connect(
                f"{client.base_url}/api/v1/scans/{scan_id}/ws", headers=client.headers(user)
            )
        connected += 1
        if connected == clients:
            all_connected.set()
        first, last_status = True, ""
        async for message in ws:
            received = time.time()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            stamp = stamp_decoder.decode(message.data)
            last_status = stamp.status
            if not first and all_connected.is_set():
                delays.append(received - datetime.fromisoformat(stamp.updated_at).timestamp())
            first = False
        await ws.close()
        if last_status in ("completed", "partial", "failed", "cancelled"):
            closed_terminal += 1

    await asyncio.gather(
        *(follow(u, s) for u, s in zip(users, scan_ids, strict=True) for _ in range(per_scan))
    )
    return {
        **latency_summary(delays),
        "clients": clients,
        "clients_saw_terminal": closed_terminal,
    }
