"""REDIS_URL forms: one Redis, a Cluster seed node, or Sentinels naming a primary."""

from __future__ import annotations

import pytest
from redis.asyncio import BlockingConnectionPool, RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.asyncio.sentinel import SentinelConnectionPool, SentinelManagedSSLConnection

from config.errors import SettingsError
from config.redis_url import redact
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


async def test_rediss_sentinel_speaks_tls_to_the_sentinels_and_the_primary() -> None:
    client = connect(
        "rediss+sentinel://app:pw@10.0.0.1/orders"
        "?sentinel_username=watch&sentinel_password=spw&ssl_ca_certs=/etc/ca.pem"
    )
    pool = client.connection_pool
    try:
        assert pool.connection_class is SentinelManagedSSLConnection
        assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
        assert (pool.connection_kwargs["username"], pool.connection_kwargs["password"]) == (
            "app",
            "pw",
        )
        (sentinel,) = pool.sentinel_manager.sentinels
        options = sentinel.connection_pool.connection_kwargs
        assert sentinel.connection_pool.connection_class is SSLConnection
        assert (options["username"], options["password"]) == ("watch", "spw")
        assert options["ssl_ca_certs"] == "/etc/ca.pem"
    finally:
        await pool.sentinel_manager.sentinels[0].aclose()
        await client.aclose()


def test_an_unknown_sentinel_parameter_is_refused_with_the_passwords_hidden() -> None:
    with pytest.raises(SettingsError) as caught:
        connect("redis+sentinel://:pw-1@h/s?sentinel_pass=pw-2")
    assert "sentinel_pass" in str(caught.value)
    assert "pw-1" not in str(caught.value) and "pw-2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@db:6379/0", "redis://:***@db:6379/0"),
        ("rediss://user:pw@db:6379/0", "rediss://user:***@db:6379/0"),
        ("redis://pw@db", "redis://***@db"),
        ("redis://db:6379/0", "redis://db:6379/0"),
        ("redis+cluster://:p%40ss@n1:7000", "redis+cluster://:***@n1:7000"),
        (
            "redis+sentinel://:pw@s1,s2:26380/svc/1?sentinel_password=spw&ssl_ca_certs=/ca",
            "redis+sentinel://:***@s1,s2:26380/svc/1?sentinel_password=***&ssl_ca_certs=/ca",
        ),
        ("unix:///run/redis.sock?db=0&password=pw", "unix:///run/redis.sock?db=0&password=***"),
        ("pw-only", "(not a URL; hidden)"),
    ],
)
def test_redact_hides_every_password(url: str, shown: str) -> None:
    assert redact(url) == shown
