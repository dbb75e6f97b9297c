"""A small TCP proxy in front of Redis for one worker, which a test can stall
(bytes are held, then delivered late on heal: a partition that heals) or cut
(connections reset and refused until healed)."""

from __future__ import annotations

import asyncio

from coordinator.embedded_redis import free_port

CHUNK_BYTES = 65536
LOOPBACK = "127.0.0.1"


class RedisProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._cut = False
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    async def start(self) -> RedisProxy:
        self.port = free_port()
        self._server = await asyncio.start_server(self.accept, LOOPBACK, self.port)
        return self

    def stall(self) -> None:
        """Hold every byte in both directions until heal()."""
        self._flowing.clear()

    def cut(self) -> None:
        """Reset every connection and refuse new ones until heal()."""
        self._cut = True
        for writer in list(self._writers):
            writer.transport.abort()

    def heal(self) -> None:
        self._cut = False
        self._flowing.set()

    async def close(self) -> None:
        self.heal()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def accept(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self._cut:
            client.transport.abort()
            return
        try:
            server_reader, server = await asyncio.open_connection(LOOPBACK, self.target_port)
        except OSError:
            client.transport.abort()
            return
        self._writers.update((client, server))
        for source, sink in ((client_reader, server), (server_reader, client)):
            pump = asyncio.ensure_future(self.pump(source, sink))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(CHUNK_BYTES):
                await self._flowing.wait()
                if self._cut:
                    break
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(sink)
            sink.transport.abort()
