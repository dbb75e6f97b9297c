"""What the service relies on inside its libraries beyond their documented API.

redis-py (coordinator/store/autopipe.py sends pipelines over a held connection;
coordinator/store/redis_client.py packs commands with hiredis and tells a Sentinel pool
apart; the doorbell and the feed hear of reconnections), aiohttp (web/websocket.py
writes snapshot frames past aiohttp's writer; config/gunicorn.py wakes aiohttp's
gunicorn worker on SIGTERM) and prometheus-client (coordinator/process/metric_values.py
swaps the value class). pyproject.toml bounds each of these libraries below its
next major version; one test per use says what changed and which code relies on
it, so a new version that moves one fails here, by name, rather than somewhere
downstream. Before raising a bound: run this file against the new version.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import hiredis
import pytest
from aiohttp import WSMsgType, web
from aiohttp.http import WebSocketWriter
from aiohttp.pytest_plugin import AiohttpClient
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker
from prometheus_client import CollectorRegistry, Counter, Histogram, values
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError

from coordinator.store.redis_client import HiredisPackingConnection, backoff
from web.ws_frame import text_frame

REDIS = f"redis-py {version('redis')}"
AIOHTTP = f"aiohttp {version('aiohttp')}"
HIREDIS = f"hiredis {version('hiredis')}"
PROMETHEUS = f"prometheus-client {version('prometheus-client')}"


def expect(holds: bool, what: str, used_by: str) -> None:
    """Fail naming what no longer holds and the code that relies on it."""
    if not holds:
        pytest.fail(
            f"{what}: no longer so. {used_by} relies on it: adapt that code (or go back "
            "to the library's public API) before allowing this version in pyproject.toml",
            pytrace=False,
        )


def takes(function: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether ``function`` can be called with these arguments (by its signature)."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        return False
    return True


@pytest.fixture
async def unconnected_redis() -> Any:
    """A client never connected: pipelines and scripts are only queued on it."""
    client = Redis(host="127.0.0.1", port=1)
    yield client
    await client.aclose()


# ---- redis-py: coordinator/store/autopipe.py ----

AUTOPIPE = "coordinator/store/autopipe.py (AutoPipeline.execute and exchange)"


async def test_a_single_redis_pipeline_is_the_plain_pipeline_class(
    unconnected_redis: Redis,
) -> None:
    pipe = unconnected_redis.pipeline(transaction=False)
    expect(
        type(pipe) is Pipeline,
        f"{REDIS}: Redis.pipeline() makes a redis.asyncio.client.Pipeline (that very class)",
        f"{AUTOPIPE}, which sends only those over a held connection",
    )


async def test_a_queued_command_is_its_arguments_and_options(unconnected_redis: Redis) -> None:
    pipe = unconnected_redis.pipeline(transaction=False)
    pipe.expire("k", 10)
    pipe.set("k", "v")
    stack = pipe.command_stack
    expect(
        len(pipe) == 2 and [args for args, _ in stack] == [("EXPIRE", "k", 10), ("SET", "k", "v")],
        f"{REDIS}: Pipeline.command_stack holds (args, options) per queued command, "
        "and len(pipe) counts them",
        AUTOPIPE,
    )
    expect(
        all(isinstance(options, dict) for _, options in stack) and not pipe.scripts,
        f"{REDIS}: a command's options are a dict, and Pipeline.scripts is empty "
        "when no Script object was queued",
        AUTOPIPE,
    )
    (_, options), _ = stack
    callback = pipe.response_callbacks.get("EXPIRE")
    expect(
        callback is not None
        and callback(1, **{k: v for k, v in options.items() if k != "keys"}) is True,
        f"{REDIS}: Pipeline.response_callbacks[name](reply, **options less 'keys') "
        "turns a raw reply into what the command returns (EXPIRE's 1 into True)",
        AUTOPIPE,
    )


async def test_commands_needing_special_replies_say_so_in_their_options(
    unconnected_redis: Redis,
) -> None:
    pipe = unconnected_redis.pipeline(transaction=False)
    pipe.dump("k")
    pipe.mget([])
    (_, dump_options), (_, mget_options) = pipe.command_stack
    expect(
        NEVER_DECODE in dump_options and EMPTY_RESPONSE in mget_options,
        f"{REDIS}: redis.client.NEVER_DECODE and EMPTY_RESPONSE mark, in a command's "
        "options, the replies Pipeline.execute handles specially",
        f"{AUTOPIPE}, which leaves those commands to Pipeline.execute",
    )


def test_a_connection_is_taken_and_given_back_without_naming_a_command() -> None:
    pool = ConnectionPool()
    expect(
        takes(pool.get_connection) and takes(pool.release, object()),
        f"{REDIS}: ConnectionPool.get_connection() needs no argument, "
        "ConnectionPool.release(connection) gives it back",
        AUTOPIPE,
    )


def test_a_connection_sends_packed_commands_and_reads_replies_one_by_one() -> None:
    connection = HiredisPackingConnection(retry=backoff())
    packed = connection.pack_commands([("SET", "k", "v"), ("GET", "k")])
    expect(
        b"".join(packed)
        == hiredis.pack_command(("SET", "k", "v")) + hiredis.pack_command(("GET", "k")),
        f"{REDIS}: Connection.pack_commands packs each command with pack_command",
        f"{AUTOPIPE} and coordinator/store/redis_client.py (HiredisPackingConnection)",
    )
    expect(
        takes(connection.send_packed_command, packed)
        and takes(connection.read_response)
        and takes(connection.disconnect),
        f"{REDIS}: Connection.send_packed_command(packed), read_response() and "
        "disconnect() take these arguments",
        AUTOPIPE,
    )


async def test_a_connections_retry_policy_runs_a_round_trip_again_after_a_failure() -> None:
    connection = HiredisPackingConnection(retry=backoff())
    attempts: list[int] = []
    dropped: list[Exception] = []

    async def round_trip() -> str:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise RedisConnectionError("lost")
        return "replies"

    async def drop(error: Exception) -> None:
        dropped.append(error)

    outcome = await connection.retry.call_with_retry(round_trip, drop)
    expect(
        outcome == "replies" and len(attempts) == 2 and len(dropped) == 1,
        f"{REDIS}: Connection.retry.call_with_retry(do, fail) calls fail(error) after a "
        "connection error and then do() again",
        AUTOPIPE,
    )


# ---- redis-py and hiredis: coordinator/store/redis_client.py ----

REDIS_CLIENT = "coordinator/store/redis_client.py"


def test_a_pool_makes_its_connections_from_its_connection_class() -> None:
    pool = ConnectionPool()
    pool.connection_class = HiredisPackingConnection
    expect(
        isinstance(pool.make_connection(), HiredisPackingConnection),
        f"{REDIS}: a pool makes connections of its connection_class, set after it is made",
        f"{REDIS_CLIENT} (connect: plain TCP connections pack with hiredis)",
    )


def test_hiredis_packs_a_command_and_refuses_what_it_cannot_pack() -> None:
    expect(
        hiredis.pack_command(("GET", "k")) == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        f"{HIREDIS}: hiredis.pack_command(args) is the RESP array",
        f"{REDIS_CLIENT} (HiredisPackingConnection.pack_command)",
    )
    raised: Exception | None = None
    try:
        hiredis.pack_command(("SET", "k", None))
    except Exception as exc:
        raised = exc
    expect(
        isinstance(raised, TypeError),
        f"{HIREDIS}: hiredis.pack_command raises TypeError for a value it cannot pack",
        f"{REDIS_CLIENT} (HiredisPackingConnection falls back to redis-py's packer on it)",
    )


async def test_a_sentinel_primarys_pool_is_a_sentinel_connection_pool() -> None:
    primary = Sentinel([("127.0.0.1", 1)]).master_for("service")
    try:
        expect(
            isinstance(primary.connection_pool, SentinelConnectionPool),
            f"{REDIS}: Sentinel.master_for(...).connection_pool is a SentinelConnectionPool",
            f"{REDIS_CLIENT} (connections_can_be_held: a Sentinel pool's must not be held, "
            "or writes go on to a demoted primary after a failover)",
        )
    finally:
        await primary.aclose()


async def test_a_pubsub_exposes_its_connection_and_its_connect_callbacks(
    unconnected_redis: Redis,
) -> None:
    pubsub = unconnected_redis.pubsub()
    try:
        expect(
            hasattr(pubsub, "connection")
            and takes(AbstractConnection.register_connect_callback, None, print)
            and takes(AbstractConnection.deregister_connect_callback, None, print),
            f"{REDIS}: PubSub.connection, and a connection's register_connect_callback(cb) "
            "and deregister_connect_callback(cb)",
            "coordinator/service/doorbell.py (listen_doorbell) and web/feed.py (Hub.listen), "
            "which hear of redis-py's silent reconnections through them",
        )
    finally:
        await pubsub.aclose()


# ---- aiohttp: web/websocket.py and config/gunicorn.py ----


class PausedProtocol:
    """Stands for aiohttp's protocol with its transport's buffer full: the writer
    waits on _drain_helper after a frame, and the test notes how much was written."""

    _paused = True

    def __init__(self, written: Callable[[], int]) -> None:
        self.written = written
        self.waited_at: list[int] = []

    async def _drain_helper(self) -> None:
        self.waited_at.append(self.written())
        await asyncio.sleep(0)


class Transport:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False


async def test_aiohttps_writer_yields_only_between_whole_frames() -> None:
    """The feed writes a snapshot's frame straight to the transport whenever the loop
    runs the hub: that is safe only if aiohttp never yields partway through a frame
    of its own (a ping, the close, a snapshot sent by a socket's task)."""
    transport = Transport()
    protocol = PausedProtocol(lambda: len(transport.data))
    writer = WebSocketWriter(protocol, transport, use_mask=False, limit=1)  # type: ignore[arg-type]
    frame_ends = []
    for payload, opcode in [
        (b"x" * 200_000, WSMsgType.TEXT),
        (b"", WSMsgType.PING),
        (b"y" * 300, WSMsgType.TEXT),
        (b"\x03\xe8", WSMsgType.CLOSE),
    ]:
        await writer.send_frame(payload, opcode)
        frame_ends.append(len(transport.data))
    expect(
        bool(protocol.waited_at) and set(protocol.waited_at) <= set(frame_ends),
        f"{AIOHTTP}: WebSocketWriter.send_frame writes a whole uncompressed frame before "
        "it waits for the transport",
        "web/websocket.py (FeedSocket.write_now writes frames past aiohttp's writer)",
    )
    expect(
        bytes(transport.data[: frame_ends[0]]) == text_frame(b"x" * 200_000),
        f"{AIOHTTP}: a server's text frame is the unmasked RFC 6455 frame",
        "web/ws_frame.py (text_frame builds the bytes aiohttp would send)",
    )


async def test_a_socket_made_without_compression_negotiates_no_extension(
    aiohttp_client: AiohttpClient,
) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    client = await aiohttp_client(app)
    async with client.ws_connect("/ws", compress=15) as ws:  # asks for permessage-deflate
        extensions = ws._response.headers.get("Sec-WebSocket-Extensions")
        await ws.receive()
    expect(
        extensions is None,
        f"{AIOHTTP}: WebSocketResponse(compress=False) answers a client asking for "
        "permessage-deflate with no extension",
        "web/websocket.py (its raw frames are uncompressed, so no extension may apply)",
    )


def test_aiohttps_gunicorn_worker_has_a_loop_and_a_graceful_quit() -> None:
    expect(
        issubclass(GunicornUVLoopWebWorker, GunicornWebWorker)
        and takes(GunicornWebWorker.handle_quit, None, 15, None)
        and "self.loop =" in inspect.getsource(GunicornWebWorker.init_process),
        f"{AIOHTTP}: aiohttp's gunicorn worker sets worker.loop in init_process and "
        "handle_quit(sig, frame) stops it gracefully",
        "config/gunicorn.py (post_worker_init makes SIGTERM call handle_quit at once)",
    )


# ---- prometheus-client: coordinator/process/metric_values.py ----

METRIC_VALUES = "coordinator/process/metric_values.py (install, buffered)"


def test_metrics_take_their_values_from_the_value_class_when_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []
    original = values.ValueClass

    def recording(typ: str, *args: Any, **kwargs: Any) -> Any:
        made.append(typ)
        return original(typ, *args, **kwargs)

    monkeypatch.setattr(values, "ValueClass", recording)
    registry = CollectorRegistry()
    Counter("internals_counter", "a counter", registry=registry).inc()
    Histogram("internals_histogram", "a histogram", registry=registry).observe(1.0)
    expect(
        "counter" in made and "histogram" in made,
        f"{PROMETHEUS}: each metric value is made by prometheus_client.values.ValueClass"
        "(typ, ...) at the time the metric is made",
        METRIC_VALUES,
    )


def test_multiprocess_values_take_a_process_identifier(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    value_class = values.MultiProcessValue(process_identifier=lambda: 1)
    value = value_class("histogram", "m", "m_sum", (), (), "help")
    value.inc(2.0)
    value.set(5.0, None)
    expect(
        value.get() == 5.0,
        f"{PROMETHEUS}: values.MultiProcessValue(process_identifier=...) makes a class "
        "whose values are made with (typ, metric_name, name, labelnames, labelvalues, "
        "help_text) and have inc(amount), set(value, timestamp) and get()",
        METRIC_VALUES,
    )
