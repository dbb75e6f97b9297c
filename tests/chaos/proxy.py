"""A small TCP proxy in front of Redis for one worker, which a test can stall
(bytes are held, then delivered late on heal: a partition that heals) or cut
(connections reset and refused until healed)."""

from __future__ import annotations

import asyncio

from coordinator.process.embedded_redis import free_port

CHUNK_BYTES = 65536
LOOPBACK = "127.0.0.1"


class RedisProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._cut = False
        self._closing = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Every connection made, closed ones too (aborting a closed one does nothing).
        self._connections: set[asyncio.StreamWriter] = set()

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
        for writer in list(self._connections):
            writer.transport.abort()

    def heal(self) -> None:
        self._cut = False
        self._flowing.set()

    async def close(self) -> None:
        """Stop listening and reset every connection, and return once each socket is
        closed: a transport left to the garbage collector warns in a later test."""
        self._closing = True
        self._flowing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # An abort closes the socket on the loop's next turn; wait for each one.
        await asyncio.gather(*(w.wait_closed() for w in self._connections), return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def keep(self, writer: asyncio.StreamWriter) -> bool:
        """Track a connection for cut() and close(); False (and reset) when refused."""
        if self._cut or self._closing:
            writer.transport.abort()
            return False
        self._connections.add(writer)
        return True

    def accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        """Called as each connection is made. Not a coroutine: a task that had not yet
        run when close() came would leave its socket to the garbage collector."""
        if self.keep(client):
            self.track(asyncio.ensure_future(self.connect(client_reader, client)))

    async def connect(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server = await asyncio.open_connection(LOOPBACK, self.target_port)
        except OSError:
            client.transport.abort()
            return
        if not self.keep(server):  # cut or closed while we connected
            client.transport.abort()
            return
        for source, sink in ((client_reader, server), (server_reader, client)):
            self.track(asyncio.ensure_future(self.pump(source, sink)))

    async def pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(CHUNK_BYTES):
                await self._flowing.wait()
                if self._cut or self._closing:
                    break
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.transport.abort()
