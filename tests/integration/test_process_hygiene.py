"""The Procfile's `web` line as a process: no control socket another process of
the same user could steer it through, and losing Redis logged as one line per
loop when it starts and one when it ends, never as tracebacks."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from coordinator.process.embedded_redis import EmbeddedRedis
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

WORKERS = 2
OUTAGE_TIMEOUT_S = 30.0
# Connections the workers try while Redis is away before it comes back: several
# retries of every loop that logs, so repeating the outage line would show.
RETRIES_SEEN = 400
# The loops that notice Redis is gone, each on its own schedule.
NOTICING = {("periodic_duty_failed", "check_generation"), ("doorbell_reconnect", None)}
RECOVERING = {("periodic_duty_recovered", "check_generation"), ("doorbell_reconnected", None)}


def unix_socket_paths(pid: int) -> list[str]:
    """The filesystem paths of the unix sockets process ``pid`` holds open."""
    paths_by_inode = {}
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8:
            paths_by_inode[fields[6]] = fields[7]
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inode = target[len("socket:[") : -1]
            if inode in paths_by_inode:
                held.append(paths_by_inode[inode])
    return held


async def test_the_web_line_opens_no_control_socket(start_service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """gunicorn >= 25.1 listens on $XDG_RUNTIME_DIR/gunicorn.ctl, or ~/.gunicorn/gunicorn.ctl,
    by default: a socket through which any process of the user can resize or stop it."""
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir()
    service: Service = start_service(workers=WORKERS, HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    assert service.process is not None
    assert unix_socket_paths(service.process.pid) == []
    for pid in service.worker_pids():
        assert unix_socket_paths(pid) == []
    assert [p for p in [*home.rglob("*"), *runtime.rglob("*")] if p.is_socket()] == []


def outage_lines(service: Service) -> Counter[tuple[str, object, object]]:
    events = {event for event, _ in NOTICING | RECOVERING}
    return Counter(
        (str(line["event"]), line.get("duty"), line.get("worker_id"))
        for line in service.log_lines()
        if line.get("event") in events
    )


def seen_by_every_worker(service: Service, wanted: set[tuple[str, str | None]]) -> bool:
    seen = outage_lines(service)
    workers = {worker for _, _, worker in seen}
    return len(workers) >= WORKERS and all(
        (event, duty, worker) in seen for event, duty in wanted for worker in workers
    )


class AwayRedis:
    """What the workers meet while Redis is away: its port closes every connection at
    once. Counting them shows the workers' loops retried, without sleeping."""

    def __init__(self) -> None:
        self.attempts = 0

    async def refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        writer.close()
        await writer.wait_closed()


async def test_losing_redis_is_one_line_per_loop_when_it_goes_and_when_it_returns(
    start_service, redis_server: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    service: Service = start_service(workers=WORKERS)
    redis_server.stop()
    away = AwayRedis()
    server = await asyncio.start_server(away.refuse, "127.0.0.1", redis_server.port)

    async def noticed_and_retried() -> bool:
        noticed = seen_by_every_worker(service, NOTICING)
        return await asyncio.sleep(0, noticed and away.attempts >= RETRIES_SEEN)

    try:
        await eventually(noticed_and_retried, timeout_s=OUTAGE_TIMEOUT_S, what="retries")
    finally:
        server.close()
        await server.wait_closed()
    redis_server.start()  # same port, same append-only file: the same data

    async def recovered() -> bool:
        return await asyncio.sleep(0, seen_by_every_worker(service, RECOVERING))

    await eventually(recovered, timeout_s=OUTAGE_TIMEOUT_S, what="every worker to recover")
    repeated = {line: count for line, count in outage_lines(service).items() if count > 1}
    assert repeated == {}, f"logged more than once in one outage: {repeated}"
    assert "Traceback" not in service.log_path.read_text(errors="replace")
