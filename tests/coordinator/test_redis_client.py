"""REDIS_URL forms: one Redis, a Cluster seed node, or Sentinels naming a primary."""

from __future__ import annotations

import pytest
from redis.asyncio import BlockingConnectionPool, RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from config.errors import SettingsError
from coordinator.store.redis_client import MAX_CONNECTIONS, connect


async def test_plain_url_is_one_redis_with_a_blocking_pool() -> None:
    client = connect("redis://127.0.0.1:6390/2")
    try:
        pool = client.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert pool.connection_kwargs["db"] == 2 and pool.max_connections == MAX_CONNECTIONS
    finally:
        await client.aclose()


async def test_cluster_url_is_a_cluster_client_seeded_by_one_node() -> None:
    client = connect("redis+cluster://127.0.0.1:7001")
    try:
        assert isinstance(client, RedisCluster)
        assert [(node.host, node.port) for node in client.nodes_manager.startup_nodes.values()] == [
            ("127.0.0.1", 7001)
        ]
    finally:
        await client.aclose()


async def test_sentinel_url_names_the_sentinels_the_service_and_the_db() -> None:
    client = connect("redis+sentinel://:s3cret@10.0.0.1:26380,10.0.0.2/orders/3")
    try:
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.service_name == "orders"
        assert pool.connection_kwargs["db"] == 3
        assert pool.connection_kwargs["password"] == "s3cret"
        sentinels = [
            (
                s.connection_pool.connection_kwargs["host"],
                s.connection_pool.connection_kwargs["port"],
            )
            for s in pool.sentinel_manager.sentinels
        ]
        assert sentinels == [("10.0.0.1", 26380), ("10.0.0.2", 26379)]
    finally:
        for sentinel in pool.sentinel_manager.sentinels:
            await sentinel.aclose()
        await client.aclose()


@pytest.mark.parametrize(
    "url", ["redis+sentinel://10.0.0.1:26379", "redis+sentinel:///orders", "redis+sentinel://h/s/x"]
)
def test_a_malformed_sentinel_url_names_the_setting(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        connect(url)
    assert caught.value.name == "REDIS_URL"
