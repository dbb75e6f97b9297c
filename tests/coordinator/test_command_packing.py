"""Plain TCP clients pack commands with hiredis: byte for byte what redis-py's own
packer sends, and redis-py's error for a value neither can send."""

from __future__ import annotations

import pytest
from redis.asyncio import Connection
from redis.exceptions import DataError

from coordinator.store.redis_client import HiredisPackingConnection, connect

COMMANDS = [
    ("HMGET", "scan:{0123}", "snap", "user", "version", "status"),
    ("EVAL", "return ARGV", 2, "a:{x}", b"b:{x}", "\u00e9t\u00e9", b"\x00\xff" * 4000, 17, -3),
    ("XINFO CONSUMERS", "work:{0}", "workers"),
    (b"CONFIG GET", "maxmemory"),
    ("XADD", "mb:{s}", "*", "m", memoryview(b"payload")),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: str(args[0]))
def test_hiredis_packs_exactly_what_redis_py_would(args: tuple[object, ...]) -> None:
    expected = b"".join(bytes(part) for part in Connection().pack_command(*args))
    packed = b"".join(HiredisPackingConnection().pack_command(*args))
    assert packed == expected


def test_a_value_neither_can_send_raises_redis_pys_error() -> None:
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "key", None)


async def test_plain_redis_urls_get_the_hiredis_packer() -> None:
    redis = connect("redis://127.0.0.1:1/0")
    try:
        assert redis.connection_pool.connection_class is HiredisPackingConnection
    finally:
        await redis.aclose()
