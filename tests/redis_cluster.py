"""A local three-master Redis Cluster on loopback, for tests that prove the
service runs on Cluster (every command stays within one slot)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

# The Redis topologies an integration test can run on (see redis_topology).
SINGLE = "single"
CLUSTER = "cluster"
TOPOLOGIES = [SINGLE, CLUSTER]
MASTERS = 3
# A node's cluster bus listens on its port plus this offset (fixed by Redis).
BUS_PORT_OFFSET = 10000
HIGHEST_PORT = 65535
STARTUP_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
CREATE_TIMEOUT_S = 30.0


class ClusterStartError(RuntimeError):
    """The local cluster could not be started; the message says why."""


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
        node_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--dir",
                str(node_dir),
                "--appendonly",
                "no",
                "--save",
                "",
                "--logfile",
                str(node_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_for_ping(self, port: int) -> None:
        self.poll(lambda client: bool(client.ping()), port, "redis-server to answer PING")

    def wait_for_state_ok(self) -> None:
        for port in self.ports:
            self.poll(
                lambda client: client.cluster("INFO")["cluster_state"] == "ok",
                port,
                "cluster_state:ok on every node",
            )

    def poll(self, probe, port: int, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        client = redis.Redis(port=port, socket_connect_timeout=0.2, decode_responses=True)
        try:
            while time.monotonic() < deadline:
                try:
                    if probe(client):
                        return
                except redis.RedisError:
                    pass
                time.sleep(POLL_INTERVAL_S)
        finally:
            client.close()
        raise ClusterStartError(f"timed out waiting for {what} (port {port}, see {self.data_dir})")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            process.wait(timeout=STARTUP_TIMEOUT_S)
        self.processes.clear()
