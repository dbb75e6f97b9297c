"""Local Redis topologies on loopback beyond one redis-server: a three-master
Cluster (every command must stay within one slot) and a primary with a replica
watched by a Sentinel (the service must follow a failover)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

# The Redis topologies an integration test can run on (see redis_topology).
# The 200-scan and kill -9 tests run on TOPOLOGIES; Sentinel has its own
# switchover test (its steady state is one plain primary, like SINGLE).
SINGLE = "single"
CLUSTER = "cluster"
SENTINEL = "sentinel"
TOPOLOGIES = [SINGLE, CLUSTER]
MASTERS = 3
# A node's cluster bus listens on its port plus this offset (fixed by Redis).
BUS_PORT_OFFSET = 10000
HIGHEST_PORT = 65535
STARTUP_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
CREATE_TIMEOUT_S = 30.0


# The name the Sentinel knows the primary by (the service part of REDIS_URL).
SENTINEL_SERVICE = "oppscan"
# How long the Sentinel waits before it calls an unanswering primary down.
SENTINEL_DOWN_AFTER_MS = 1000
SENTINEL_FAILOVER_TIMEOUT_MS = 10000
# Longest writes stay paused during a switchover; it is lifted as soon as it is done.
SWITCHOVER_PAUSE_MS = SENTINEL_FAILOVER_TIMEOUT_MS + 5000


class ClusterStartError(Exception):
    """A local topology could not be started (or failed over); the message says why."""


def required_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ClusterStartError(
            f"{name} is not on PATH: the Redis Cluster tests need redis-server and "
            "redis-cli (Redis 7; e.g. `apt-get install redis-server`)"
        )
    return found


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_node_port(taken: set[int]) -> int:
    """A free port whose cluster bus port (port + 10000) is free as well."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        bus = port + BUS_PORT_OFFSET
        if port not in taken and bus <= HIGHEST_PORT and port_is_free(bus):
            return port


@dataclass
class LocalCluster:
    data_dir: Path
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The REDIS_URL form the service reads as a Cluster, seeded by one node."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self) -> LocalCluster:
        server = required_binary("redis-server")
        cli = required_binary("redis-cli")
        self.data_dir = self.data_dir.resolve()
        taken: set[int] = set()
        for _ in range(MASTERS):
            port = free_node_port(taken)
            taken.add(port)
            self.ports.append(port)
            self.processes.append(self.start_node(server, port))
        for port in self.ports:
            self.wait_for_ping(port)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        created = subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            timeout=CREATE_TIMEOUT_S,
            check=False,
        )
        if created.returncode != 0:
            raise ClusterStartError(f"redis-cli --cluster create failed: {created.stdout!r}")
        self.wait_for_state_ok()
        return self

    def start_node(self, server: str, port: int) -> subprocess.Popen[bytes]:
        node_dir = self.data_dir / str(port)
        return start_redis(
            server,
            port,
            node_dir,
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(node_dir / "nodes.conf"),
        )

    def wait_for_ping(self, port: int) -> None:
        poll(lambda client: bool(client.ping()), port, "redis-server to answer PING")

    def wait_for_state_ok(self) -> None:
        for port in self.ports:
            poll(
                lambda client: client.cluster("INFO")["cluster_state"] == "ok",
                port,
                "cluster_state:ok on every node",
            )

    def stop(self) -> None:
        stop_all(self.processes)


@dataclass
class LocalSentinel:
    """A primary, one replica, and one Sentinel (quorum 1) watching them; with
    ``password`` the primary and replica require it, with ``sentinel_password``
    the Sentinel requires its own."""

    data_dir: Path
    primary_port: int = 0
    replica_port: int = 0
    sentinel_port: int = 0
    password: str | None = None
    sentinel_password: str | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        userinfo = f":{self.password}@" if self.password else ""
        query = f"?sentinel_password={self.sentinel_password}" if self.sentinel_password else ""
        return (
            f"redis+sentinel://{userinfo}127.0.0.1:{self.sentinel_port}/{SENTINEL_SERVICE}{query}"
        )

    def auth_options(self) -> list[str]:
        if not self.password:
            return []
        return ["--requirepass", self.password, "--masterauth", self.password]

    def client(self, port: int) -> redis.Redis:
        password = self.sentinel_password if port == self.sentinel_port else self.password
        return redis.Redis(port=port, password=password, decode_responses=True)

    def start(self) -> LocalSentinel:
        server = required_binary("redis-server")
        self.data_dir = self.data_dir.resolve()
        taken: set[int] = set()
        for name in ("primary_port", "replica_port", "sentinel_port"):
            port = free_node_port(taken)
            taken.add(port)
            setattr(self, name, port)
        auth = self.auth_options()
        self.processes.append(
            start_redis(server, self.primary_port, self.data_dir / "primary", *auth)
        )
        self.processes.append(
            start_redis(
                server,
                self.replica_port,
                self.data_dir / "replica",
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
                *auth,
            )
        )
        for port in (self.primary_port, self.replica_port):
            self.poll(lambda client: bool(client.ping()), port, "redis-server to answer PING")
        self.poll(
            lambda client: client.info("replication")["master_link_status"] == "up",
            self.replica_port,
            "the replica to sync with the primary",
        )
        self.processes.append(self.start_sentinel(server))
        self.poll(
            lambda client: client.sentinel_master(SENTINEL_SERVICE)["num-slaves"] >= 1,
            self.sentinel_port,
            "the Sentinel to see the primary and its replica",
        )
        return self

    def poll(self, probe, port: int, what: str) -> None:  # type: ignore[no-untyped-def]
        password = self.sentinel_password if port == self.sentinel_port else self.password
        poll(probe, port, what, password=password)

    def start_sentinel(self, server: str) -> subprocess.Popen[bytes]:
        sentinel_dir = self.data_dir / "sentinel"
        sentinel_dir.mkdir(parents=True, exist_ok=True)
        config = sentinel_dir / "sentinel.conf"
        service = SENTINEL_SERVICE
        config.write_text(
            f"port {self.sentinel_port}\n"
            "bind 127.0.0.1\n"
            f"dir {sentinel_dir}\n"
            f"logfile {sentinel_dir / 'sentinel.log'}\n"
            f"sentinel monitor {service} 127.0.0.1 {self.primary_port} 1\n"
            f"sentinel down-after-milliseconds {service} {SENTINEL_DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {service} {SENTINEL_FAILOVER_TIMEOUT_MS}\n"
            + (f"sentinel auth-pass {service} {self.password}\n" if self.password else "")
            + (f"requirepass {self.sentinel_password}\n" if self.sentinel_password else "")
        )
        return subprocess.Popen(
            [server, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def current_primary_port(self) -> int:
        client = self.client(self.sentinel_port)
        try:
            _host, port = client.sentinel_get_master_addr_by_name(SENTINEL_SERVICE)
        finally:
            client.close()
        return int(port)

    def switchover(self) -> None:
        """A planned switchover that loses no acknowledged write: pause writes on the
        primary, wait for the replica to hold everything, let the Sentinel promote
        it, make the old primary its replica (the Sentinel would only get to that
        after its next INFO round, ~10 s, while the old primary kept taking writes
        that the resync then drops), and only then release the paused writes,
        which now fail with READONLY and move to the new primary."""
        old = self.client(self.current_primary_port())
        try:
            old.execute_command("CLIENT", "PAUSE", str(SWITCHOVER_PAUSE_MS), "WRITE")
            offset = old.info("replication")["master_repl_offset"]
            self.poll(
                lambda client: client.info("replication")["slave_repl_offset"] >= offset,
                self.replica_port,
                "the replica to catch up with the paused primary",
            )
            self.failover()
            old.replicaof("127.0.0.1", self.current_primary_port())
        finally:
            old.execute_command("CLIENT", "UNPAUSE")
            old.close()

    def failover(self) -> None:
        """Ask the Sentinel to promote the replica, and wait until it names it."""
        before = self.current_primary_port()
        # A Sentinel refuses (NOGOODSLAVE) until it has heard from the replica itself.
        self.poll(
            lambda client: client.sentinel_failover(SENTINEL_SERVICE),
            self.sentinel_port,
            "the Sentinel to accept the failover",
        )
        deadline = time.monotonic() + SENTINEL_FAILOVER_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            if self.current_primary_port() != before:
                return
            time.sleep(POLL_INTERVAL_S)
        raise ClusterStartError(f"Sentinel did not fail over (see {self.data_dir})")

    def stop(self) -> None:
        stop_all(self.processes)


def start_redis(server: str, port: int, node_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    node_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(node_dir),
            "--appendonly",
            "no",
            "--save",
            "",
            "--logfile",
            str(node_dir / "redis.log"),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def poll(probe, port: int, what: str, password: str | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    client = redis.Redis(
        port=port, password=password, socket_connect_timeout=0.2, decode_responses=True
    )
    try:
        while time.monotonic() < deadline:
            try:
                if probe(client):
                    return
            except (redis.RedisError, KeyError):
                pass
            time.sleep(POLL_INTERVAL_S)
    finally:
        client.close()
    raise ClusterStartError(f"timed out waiting for {what} (port {port})")


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(timeout=STARTUP_TIMEOUT_S)
    processes.clear()
