"""One place that builds Redis clients, with reconnect backoff.

``REDIS_URL`` picks the topology: ``redis://`` / ``rediss://`` is one Redis;
``redis+cluster://`` / ``rediss+cluster://`` is a Redis Cluster reached through
one seed node (the client discovers the rest and follows slot moves).
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
# URL schemes that name a Cluster, and the plain scheme redis-py parses them as.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def backoff() -> Retry:
    return Retry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S), RETRIES)


def connect(url: str) -> Redis:
    scheme, _, rest = url.partition("://")
    if scheme in CLUSTER_SCHEMES:
        return connect_cluster(f"{CLUSTER_SCHEMES[scheme]}://{rest}")
    # A blocking pool: a burst of requests waits for a connection instead of failing.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_S,
        retry=backoff(),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=0,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it too


def connect_cluster(seed_url: str) -> Redis:
    cluster = RedisCluster.from_url(
        seed_url,
        max_connections=MAX_CONNECTIONS,
        retry=backoff(),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
    )
    # RedisCluster serves every command the service sends (each touches one
    # slot); the one difference, scripts queued on a pipeline, is handled by
    # coordinator.scripts.queue_script.
    return cast(Redis, cluster)
