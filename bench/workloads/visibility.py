"""Workload 1, visibility: SCANS scans started; a second process reads each one at
once and then every READ_EVERY_S for READ_FOR_S, counting reads that name no known state.

The submitting process writes each id to the reader's stdin the moment submit returns.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

SCANS = 500
SUBMIT_CONCURRENCY = 8
READ_EVERY_S = 0.005
READ_FOR_S = 0.1


async def drive(client: Any, params: dict[str, Any]) -> dict[str, object]:
    """Submit scans; hand each id to the reader process; return the reader's counts."""
    scans = int(params.get("scans", SCANS))
    reader = subprocess.Popen(
        [sys.executable, "-m", "bench.drive", params["system"], "visibility_reader", "{}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert reader.stdin is not None and reader.stdout is not None
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(scans):
        queue.put_nowait(n)

    async def submitter() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            user = f"vis-{params.get('round', 0)}-{n}"
            scan_id = await client.submit(user, ["noop_01"])
            reader.stdin.write(f"{user} {scan_id}\n".encode())  # type: ignore[union-attr]
            reader.stdin.flush()  # type: ignore[union-attr]

    await asyncio.gather(*(submitter() for _ in range(SUBMIT_CONCURRENCY)))
    reader.stdin.close()
    output = await asyncio.to_thread(reader.stdout.read)
    reader.wait()
    lines = [line for line in output.decode().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": "reader gave no result"}


async def read(client: Any, params: dict[str, Any]) -> dict[str, object]:
    """The second process: read every id it is given, at once and then on a schedule."""
    loop = asyncio.get_running_loop()
    reads = unknown = 0
    examples: list[str] = []
    pending: set[asyncio.Task[None]] = set()

    async def follow(user: str, scan_id: str) -> None:
        nonlocal reads, unknown
        end = time.monotonic() + READ_FOR_S
        while True:
            status = await client.status(user, scan_id)
            reads += 1
            if status is None:
                unknown += 1
                if len(examples) < 3:
                    examples.append(scan_id)
            if time.monotonic() >= end:
                return
            await asyncio.sleep(READ_EVERY_S)

    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        user, scan_id = line.split()
        task = asyncio.ensure_future(follow(user, scan_id))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return {
        "reads": reads,
        "unknown_reads": unknown,
        "unknown_pct": round(100 * unknown / max(reads, 1), 2),
        "examples": examples,
    }
