"""One place that builds Redis clients, with reconnect backoff.

``REDIS_URL`` picks the topology: ``redis://`` / ``rediss://`` is one Redis;
``redis+cluster://`` / ``rediss+cluster://`` is a Redis Cluster reached through
one seed node (the client discovers the rest and follows slot moves);
``redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`` is the
primary that those Sentinels name ``service``, found again after a failover
(the Sentinels' own password is the ``sentinel_password`` query parameter;
``rediss+sentinel://`` is TLS to both; see config.redis_url).
"""

from __future__ import annotations

from typing import Any, cast

import hiredis
from redis.asyncio import BlockingConnectionPool, Connection, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.redis_url import CLUSTER_SCHEMES, SENTINEL_SCHEMES, parse_sentinel

# Reconnect backoff: starts at 20 ms, capped at 1 s, so workers are serving
# again within about a second after Redis returns.
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
RETRIES = 3
# Longer than the longest blocking read (work_block_ms), so a healthy blocking
# XREADGROUP is never mistaken for a dead connection.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 1.0
# Connections per process (per node on a Cluster): blocking reads (one per work
# bucket), two pub/sub listeners, and the request burst of a busy worker.
MAX_CONNECTIONS = 256
# How long a request waits for a pooled connection before it is a 503.
POOL_WAIT_S = 5.0


class HiredisPackingConnection(Connection):
    """A plain TCP connection whose commands are packed by hiredis (already the reply
    parser) in C: redis-py's asyncio connection packs them in Python, 5-8x slower,
    which showed as a tenth of the service's CPU in a busy worker's profile."""

    def pack_command(self, *args: Any) -> list[bytes]:
        name = args[0]  # str or bytes; "XINFO CONSUMERS" is sent as two words
        if (" " if isinstance(name, str) else b" ") in name:
            args = (*name.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            # A value hiredis cannot pack: redis-py's packer raises its DataError.
            return super().pack_command(*args)


def backoff() -> Retry:
    return Retry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S), RETRIES)


def connection_options(socket_timeout_s: float | None = SOCKET_TIMEOUT_S) -> dict[str, Any]:
    """What every topology's connections share: pool size, retries, timeouts."""
    return {
        "max_connections": MAX_CONNECTIONS,
        "retry": backoff(),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
    }


def connect(url: str, *, socket_timeout_s: float | None = SOCKET_TIMEOUT_S) -> Redis:
    """A client for ``url``. ``socket_timeout_s=None`` is for a caller that bounds
    each round trip itself (coordinator.store.autopipe): redis-py arms a timer per reply
    read, which in a long pipeline costs more than the commands."""
    scheme, _, rest = url.partition("://")
    options = connection_options(socket_timeout_s)
    if scheme in CLUSTER_SCHEMES:
        return connect_cluster(f"{CLUSTER_SCHEMES[scheme]}://{rest}", options)
    if scheme in SENTINEL_SCHEMES:
        return connect_sentinel(url, options)
    # A blocking pool: a burst of requests waits for a connection instead of failing.
    pool = BlockingConnectionPool.from_url(
        url, timeout=POOL_WAIT_S, health_check_interval=0, **options
    )
    if pool.connection_class is Connection:  # plain TCP (not TLS, not a unix socket)
        pool.connection_class = HiredisPackingConnection
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it too


def connect_cluster(seed_url: str, options: dict[str, Any]) -> Redis:
    cluster = RedisCluster.from_url(seed_url, **options)
    # RedisCluster serves every command the service sends (each touches one
    # slot); the one difference, scripts queued on a pipeline, is handled by
    # coordinator.store.scripts.queue_call.
    return cast(Redis, cluster)


def connect_sentinel(url: str, options: dict[str, Any]) -> Redis:
    """The primary the Sentinels name; its pool asks them again after a failover.
    ``rediss+sentinel://`` speaks TLS to the Sentinels and to the primary."""
    parsed = parse_sentinel(url)
    tls: dict[str, Any] = {"ssl": True, "ssl_ca_certs": parsed.ssl_ca_certs} if parsed.tls else {}
    sentinel = Sentinel(
        list(parsed.sentinels),
        sentinel_kwargs={
            "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "username": parsed.sentinel_username,
            "password": parsed.sentinel_password,
            **tls,
        },
    )
    return cast(
        Redis,
        sentinel.master_for(
            parsed.service,
            db=parsed.db,
            username=parsed.username,
            password=parsed.password,
            **tls,
            **options,
        ),
    )


def connections_can_be_held(pool: object) -> bool:
    """Whether a caller may keep one of ``pool``'s connections across commands. Not a
    Sentinel pool's: after a failover it moves only idle connections to the new
    primary, and a held one kept writing to the demoted primary until its retries
    ran out (test_sentinel_failover caught it)."""
    return not isinstance(pool, SentinelConnectionPool)


def runs_in_order(redis: Redis) -> bool:
    """Whether one pipeline's commands run in the order they were queued: on one
    Redis (plain or Sentinel) they do; a Cluster pipeline sends each node its share,
    and those run in any order."""
    return not isinstance(redis, RedisCluster)


def dedicated(redis: Redis) -> Redis:
    """A client keeping one connection of ``redis``'s pool, for a loop that sends one
    command at a time (a work consumer's blocking reads): a pool checkout costs a
    lock, a timer and a liveness probe per command. A Cluster client routes each
    command itself, and some pools' connections must not be held: those clients
    are returned as they are."""
    if not isinstance(redis, Redis) or not connections_can_be_held(redis.connection_pool):
        return redis
    return redis.client()
