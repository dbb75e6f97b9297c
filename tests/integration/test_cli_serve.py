"""`oppscan serve --dev` (what `make run` runs) with REDIS_URL unset: it starts an
embedded redis-server with the append-only file on, in a data directory under
its working directory (0700, loopback only, a password kept there 0600);
SIGTERM stops gunicorn and that redis-server; started again on the same
directory, it still has the scans of the first run, and its secret; Ctrl-C
stops it in the same order."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import jwt
import pytest
import redis

from config.data_dir import DEV_SECRET_FILE, REDIS_PASSWORD_FILE
from coordinator.process.embedded_redis import free_port
from tests.integration.logged_process import (
    STOP_TIMEOUT_S,
    LoggedProcess,
    descendants,
    kill_all,
    wait_ready,
)
from tests.integration.service import children_of

pytestmark = pytest.mark.processes

OPPSCAN = Path(sys.executable).with_name("oppscan")
# Gunicorn importing numpy and TA-Lib, plus the redis-server, take a few seconds.
# Workers release their leases and gunicorn exits within its graceful timeout (10 s).
CLI_TIMEOUT_S = 60.0
DATA_DIR = Path(".data/redis")


class Served(LoggedProcess):
    """`oppscan serve` with its embedded redis-server and data directory."""

    def redis_url(self) -> str:
        """The embedded Redis's URL: printed with its password hidden, which only the
        data directory holds."""
        found = re.search(r"; redis: (redis://:\*\*\*@[^)]+)\)", self.log())
        assert found, self.log()
        password = (self.data_dir / REDIS_PASSWORD_FILE).read_text().strip()
        return found[1].replace("***", password)

    @property
    def data_dir(self) -> Path:
        return self.log_path.parent / DATA_DIR

    def redis_server_pid(self) -> int:
        pids = [p for p in children_of(self.process.pid) if process_name(p) == "redis-server"]
        assert len(pids) == 1, pids
        return pids[0]


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def serve_env(port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "JWT_SECRET", "DEV_MODE", "OPPSCAN_DATA_DIR")
    }
    env.update({"PORT": str(port), "DIAGNOSTIC_STRATEGIES": "1"})
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[], Served]]:
    """Start `oppscan serve` in tmp_path; whatever is still running at the end is killed."""
    started: list[Served] = []

    def start() -> Served:
        port = free_port()
        log_path = tmp_path / f"serve-{len(started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(OPPSCAN), "serve", "--dev", "--workers", "1"],
                cwd=tmp_path,
                env=serve_env(port),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served = Served(process, log_path, port)
        started.append(served)
        return served

    yield start
    kill_all(started)


def stop(served: Served, signum: signal.Signals) -> int:
    """Signal `serve`'s process group, as a terminal's Ctrl-C or a supervisor does."""
    os.killpg(served.process.pid, signum)
    return served.process.wait(timeout=STOP_TIMEOUT_S)


def oppscan(cwd: Path, port: int, *args: str) -> str:
    run = subprocess.run(
        [str(OPPSCAN), *args],
        cwd=cwd,
        env=serve_env(port) | {"OPPSCAN_URL": f"http://127.0.0.1:{port}"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def assert_private(data_dir: Path) -> None:
    """The data directory is the user's alone, and so are the secrets in it."""
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in (DEV_SECRET_FILE, REDIS_PASSWORD_FILE):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def assert_banner_token_is_not_admin(served: Served) -> None:
    """Development mode prints one token, not an admin one, signed with the data
    directory's secret; and how to mint an admin token on this machine."""
    printed = set(re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", served.log()))
    assert len(printed) == 1, printed
    secret = (served.data_dir / DEV_SECRET_FILE).read_text().strip()
    claims = jwt.decode(printed.pop(), secret, algorithms=["HS256"])
    assert claims["sub"] == "dev-user" and "role" not in claims
    assert "oppscan token --user dev-admin --admin" in served.log()


async def assert_dev_route_mints_no_admin(served: Served) -> None:
    """The page's route mints tokens in development mode, never an admin one."""
    route = f"{served.base_url}/api/v1/dev/token"
    async with aiohttp.ClientSession() as session:
        async with session.post(route, json={"user": "mallory", "admin": True}) as response:
            assert response.status == 403, await response.text()
        async with session.post(route, json={"user": "carol"}) as response:
            assert response.status == 200
            minted = (await response.json())["token"]
    secret = (served.data_dir / DEV_SECRET_FILE).read_text().strip()
    claims = jwt.decode(minted, secret, algorithms=["HS256"])
    assert claims["sub"] == "carol" and "role" not in claims


def is_gone(pid: int) -> bool:
    return process_name(pid) in ("", "zombie")


async def test_serve_embedded_redis_appendonly_sigterm_and_restart(
    serve: Callable[[], Served], tmp_path: Path
) -> None:
    first = serve()
    await wait_ready(first)
    with redis.Redis.from_url(first.redis_url()) as client:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("dir")["dir"] == str((tmp_path / DATA_DIR).resolve())
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    port = int(re.findall(r":(\d+)/", first.redis_url())[-1])
    with redis.Redis(port=port) as bare, pytest.raises(redis.AuthenticationError):
        bare.ping()  # the embedded Redis answers nobody without its password
    assert_private(first.data_dir)
    assert_banner_token_is_not_admin(first)
    redis_pid = first.redis_server_pid()
    gunicorn_pids = [p for p in children_of(first.process.pid) if p != redis_pid]
    # A token minted by the CLI in the same directory is accepted: the same dev secret.
    token = oppscan(tmp_path, first.port, "token", "--user", "serve-user").strip()
    await assert_dev_route_mints_no_admin(first)
    printed = json.loads(
        oppscan(tmp_path, first.port, "scan", "--strategies", "noop", "--watch", "--json",
                "--token", token)
    )  # fmt: skip
    scan_id = printed["scan"]["scan_id"]
    assert printed["scan"]["status"] == "completed"

    assert stop(first, signal.SIGTERM) == 0, first.log()
    for pid in [redis_pid, *gunicorn_pids]:
        assert is_gone(pid), f"{pid} ({process_name(pid)}) outlived `oppscan serve`"
    assert '"event": "coordinator_stopped"' in first.log(), "workers stop gracefully"

    second = serve()
    await wait_ready(second)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{second.base_url}/api/v1/scans/{scan_id}",
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        assert await response.json() == printed["scan"]
    # Ctrl-C: the same graceful order (gunicorn first, then redis-server).
    second_pids = descendants(second.process.pid)
    assert stop(second, signal.SIGINT) == 0, second.log()
    for pid in second_pids:
        assert is_gone(pid), f"{pid} ({process_name(pid)}) outlived `oppscan serve`"
    assert '"event": "coordinator_stopped"' in second.log(), "workers stop gracefully"
    # The terminal's SIGINT reached only `serve`; it stopped redis-server itself, last.
    redis_log = (tmp_path / DATA_DIR / "redis.log").read_text()
    assert "Received SIGINT" not in redis_log, redis_log
    assert redis_log.count("Received SIGTERM") == 2, redis_log
