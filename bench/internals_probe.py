"""What two of the library internals the service relies on still buy over the public API
(docs/benchmarks.md, "Library internals"): run it when raising redis-py's bound.

    python bench/internals_probe.py [--pairs 8]

1. Client CPU per auto-pipelined round trip of CALLERS concurrent GETs: the
   AutoPipeline's own sender (a held connection, every command written then every reply
   read) against redis-py's public ``Pipeline.execute``, alternating A B / B A.
2. CPU to pack a publish-sized EVAL: hiredis (HiredisPackingConnection) against
   redis-py's own Python packer.

It starts a private redis-server (as the tests do) and measures process CPU time, which
a shared machine's load disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Connection
from redis.asyncio.client import Pipeline

from coordinator.process.embedded_redis import EmbeddedRedis
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.redis_client import HiredisPackingConnection, connect

# Concurrent callers: a round trip then carries about this many commands.
CALLERS = 20
ROUND_TRIPS = 1500
ROUND_TRIP_TIMEOUT_S = 5.0
DEFAULT_PAIRS = 8
PACKS = 50_000
US_PER_S = 1e6
# The shape of a snapshot publish: a script's text, four keys, a token and a snapshot.
PUBLISH_ARGS: tuple[Any, ...] = (
    "EVAL",
    "x" * 400,
    4,
    *(f"oppscan:{{scan}}:{part}" for part in ("scan", "results", "lease", "mailbox")),
    "token",
    3,
    12,
    b"\x93" * 300,
)


async def through_pipeline_execute(pipe: Pipeline) -> list[Any]:
    return await pipe.execute(raise_on_error=False)


async def round_trip_cpu_us(url: str, *, public: bool) -> float:
    redis = connect(url, socket_timeout_s=None)
    autopipe = AutoPipeline(redis, round_trip_timeout_s=ROUND_TRIP_TIMEOUT_S)
    if public:
        autopipe.execute = through_pipeline_execute  # type: ignore[method-assign]
    await redis.set("probe", "x" * 200)

    async def caller() -> None:
        for _ in range(ROUND_TRIPS):
            await autopipe.run(lambda pipe: pipe.get("probe"))

    try:
        await asyncio.gather(*(caller() for _ in range(CALLERS)))  # warm-up
        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        return (time.process_time() - started) / ROUND_TRIPS * US_PER_S
    finally:
        await autopipe.release_connection()
        await redis.aclose()


def pack_cpu_us(connection_class: type[Connection]) -> float:
    connection = connection_class()
    started = time.process_time()
    for _ in range(PACKS):
        connection.pack_command(*PUBLISH_ARGS)
    return (time.process_time() - started) / PACKS * US_PER_S


def line(name: str, samples: list[float], unit: str) -> str:
    shown = ", ".join(f"{sample:.1f}" for sample in samples)
    return f"{name:<34} {shown}  (median {statistics.median(samples):.1f} {unit})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=DEFAULT_PAIRS)
    pairs = parser.parse_args().pairs
    held: list[float] = []
    public: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        server = EmbeddedRedis(Path(directory), appendonly=False).start()
        try:
            for pair in range(pairs):
                for use_public in (False, True) if pair % 2 == 0 else (True, False):
                    cpu = uvloop.run(round_trip_cpu_us(server.url, public=use_public))
                    (public if use_public else held).append(cpu)
        finally:
            server.stop()
    print(f"client CPU per round trip of {CALLERS} GETs, us:")
    print(line("  AutoPipeline's own sender", held, "us"))
    print(line("  Pipeline.execute (public)", public, "us"))
    print("CPU to pack a publish-sized EVAL, us:")
    print(line("  hiredis", [pack_cpu_us(HiredisPackingConnection) for _ in range(3)], "us"))
    print(line("  redis-py's packer (public)", [pack_cpu_us(Connection) for _ in range(3)], "us"))


if __name__ == "__main__":
    main()
