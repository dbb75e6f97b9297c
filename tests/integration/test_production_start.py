"""Production starts as an operator runs them: `oppscan serve` without `--dev`, the
Procfile's `web` line (gunicorn) and its `worker` line. Weak settings are refused
before anything starts, with one line and a non-zero status; a good start mints
nothing and prints nothing secret (no token, no JWT_SECRET, no Redis password);
SIGTERM while a worker still waits for an unreachable Redis stops it at once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from coordinator.process.embedded_redis import EmbeddedRedis, free_port
from tests.integration.logged_process import (
    READY_TIMEOUT_S,
    LoggedProcess,
    kill_all,
    wait_ready,
)
from tests.integration.service import ROOT, procfile_command
from tests.support import eventually
from web.gunicorn_worker import GRACEFUL_TIMEOUT_S

pytestmark = pytest.mark.processes

OPPSCAN = Path(sys.executable).with_name("oppscan")
PRODUCTION_SECRET = "production-secret-0123456789-abcdefghij"
REDIS_PASSWORD = "redis-password-0123456789-xyz"
SETTINGS_REFUSED = 2
# Gunicorn importing numpy and TA-Lib take a few seconds per worker.
# Refusing settings happens before any worker or redis-server starts.
REFUSAL_TIMEOUT_S = 30.0
# "Promptly": well under gunicorn's graceful timeout, after which it would SIGKILL
# the workers, which is how long a SIGTERM took while they waited for Redis.
PROMPT_STOP_S = 0.6 * GRACEFUL_TIMEOUT_S
CLI_TIMEOUT_S = 60.0


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything that would choose a mode for us."""
    chosen = ("REDIS_URL", "JWT_SECRET", "DEV_MODE", "OPPSCAN_DATA_DIR", "HOST", "PORT")
    env = {k: v for k, v in os.environ.items() if k not in chosen}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.update({"DIAGNOSTIC_STRATEGIES": "1", **overrides})
    return env


def refused(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=REFUSAL_TIMEOUT_S,
        check=False,
    )


def web_line() -> list[str]:
    return ["sh", "-c", f"exec {procfile_command('web')}"]


def worker_line() -> list[str]:
    return ["sh", "-c", f"exec {procfile_command('worker')}"]


def assert_one_line_refusal(run: subprocess.CompletedProcess[str], setting: str) -> None:
    assert run.returncode == SETTINGS_REFUSED, (run.returncode, run.stdout, run.stderr)
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [line for line in errors if f"setting {setting}:" in line], run.stderr
    assert len(errors) == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "Booting worker" not in run.stderr, "refused before any worker boots"


WEAK_SECRETS = {"unset": None, "31 bytes": "s" * 31}


@pytest.mark.parametrize("secret", WEAK_SECRETS.values(), ids=WEAK_SECRETS.keys())
def test_every_production_start_refuses_a_weak_jwt_secret(
    tmp_path: Path, secret: str | None
) -> None:
    env = {"PORT": str(free_port())} | ({"JWT_SECRET": secret} if secret else {})
    serve = refused([str(OPPSCAN), "serve"], tmp_path, **env)
    assert_one_line_refusal(serve, "JWT_SECRET")
    assert serve.stderr.count("\n") == 1, serve.stderr  # `serve` prints nothing else
    assert not (tmp_path / ".data").exists(), "nothing started, not even the embedded Redis"
    assert_one_line_refusal(refused(web_line(), ROOT, **env), "JWT_SECRET")
    worker = refused(worker_line(), ROOT, REDIS_URL="redis://127.0.0.1:1/0", **env)
    assert_one_line_refusal(worker, "JWT_SECRET")
    assert worker.stderr.count("\n") == 1, worker.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--dev", "--host", "0.0.0.0"], {}),
        (["--dev"], {"HOST": "192.0.2.7"}),
        ([], {"DEV_MODE": "1", "HOST": "0.0.0.0"}),
    ],
)
def test_development_mode_refuses_to_listen_beyond_loopback(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    run = refused([str(OPPSCAN), "serve", *args], tmp_path, PORT=str(free_port()), **env)
    assert_one_line_refusal(run, "HOST")
    assert run.stderr.count("\n") == 1, run.stderr


def test_the_web_line_in_development_mode_refuses_its_default_bind(tmp_path: Path) -> None:
    """The Procfile binds 0.0.0.0 unless HOST says otherwise: not in development mode."""
    run = refused(web_line(), ROOT, DEV_MODE="1", PORT=str(free_port()))
    assert_one_line_refusal(run, "DEV_MODE")
    assert "0.0.0.0" in run.stderr


@pytest.fixture
def start(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Start a command in tmp_path with its output in a log; all killed at the end."""
    started: list[LoggedProcess] = []

    def run(command: list[str], **env: str) -> LoggedProcess:
        """`oppscan` runs in tmp_path (its data directory there), the Procfile's lines
        in the repository, as the Procfile's commands name files in it."""
        port = free_port()
        log_path = tmp_path / f"run-{len(started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=tmp_path if command[0] == str(OPPSCAN) else ROOT,
                env=clean_env(PORT=str(port), HOST="127.0.0.1", **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(LoggedProcess(process, log_path, port))
        return started[-1]

    yield run
    kill_all(started)


@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False, password=REDIS_PASSWORD).start()
    yield server
    server.stop()


async def get(url: str, **kwargs: object) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.request(url=url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.text()


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [str(OPPSCAN), *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return run


def assert_nothing_secret(output: str) -> None:
    assert PRODUCTION_SECRET not in output
    assert REDIS_PASSWORD not in output
    assert "eyJ" not in output, "a token (or a JWT header) was printed"


async def test_production_serve_mints_nothing_and_prints_nothing_secret(
    start, password_redis: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    served = start(
        [str(OPPSCAN), "serve", "--workers", "2"],
        JWT_SECRET=PRODUCTION_SECRET,
        REDIS_URL=password_redis.url,
    )
    await wait_ready(served)
    for body in ({"user": "mallory"}, {"user": "mallory", "admin": True}):
        status, text = await get(
            f"{served.base_url}/api/v1/dev/token", method="POST", data=json.dumps(body)
        )
        assert status == 404 and "eyJ" not in text, text
    status, text = await get(f"{served.base_url}/readyz", method="GET")
    assert status == 200 and REDIS_PASSWORD not in text
    token = cli("token", "--user", "operator", JWT_SECRET=PRODUCTION_SECRET).stdout.strip()
    scanned = cli(
        "scan", "--strategies", "noop", "--watch", "--json", "--url", served.base_url,
        "--token", token,
    )  # fmt: skip
    assert json.loads(scanned.stdout)["scan"]["status"] == "completed"
    served.stop()
    output = served.log()
    assert served.process.returncode == 0, output
    assert f"production mode; redis: redis://:***@127.0.0.1:{password_redis.port}/0" in output
    assert '"event": "coordinator_stopped"' in output, "it served, then stopped gracefully"
    assert_nothing_secret(output)


@pytest.mark.parametrize("how", ["serve", "web", "worker"])
async def test_sigterm_while_waiting_for_an_unreachable_redis_stops_promptly(
    start, how: str
) -> None:  # type: ignore[no-untyped-def]
    """Redis at a closed port: every worker waits for it (logging the outage once);
    a SIGTERM then stops each within moments, with one line, no traceback."""
    closed = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"
    command = {"serve": [str(OPPSCAN), "serve"], "web": web_line(), "worker": worker_line()}[how]
    running = start(command, JWT_SECRET=PRODUCTION_SECRET, REDIS_URL=closed, WEB_CONCURRENCY="2")
    workers = 1 if how == "worker" else 2

    async def all_waiting() -> bool:
        assert running.process.poll() is None, running.log()
        waiting = running.log().count('"redis_unavailable_at_start"')
        return await asyncio.sleep(0, waiting >= workers)

    await eventually(all_waiting, timeout_s=READY_TIMEOUT_S, what="the workers to wait for Redis")
    took_s = running.stop()
    print(f"\n{how}: SIGTERM while waiting for Redis -> exited in {took_s:.2f} s")
    output = running.log()
    assert took_s < PROMPT_STOP_S, f"took {took_s:.1f} s\n{output}"
    assert running.process.returncode == 0, output
    stopped = "worker_stopped_while_starting" if how == "worker" else "worker_stopped_while_booting"
    assert output.count(f'"{stopped}"') == workers, output
    assert output.count('"redis_unavailable_at_start"') == workers, "one line per outage"
    assert "Traceback" not in output
    assert_nothing_secret(output)


def test_the_recovery_command_shows_the_redis_url_with_its_password_hidden(
    tmp_path: Path, password_redis: EmbeddedRedis
) -> None:
    command = [sys.executable, "-m", "coordinator.recover"]
    ok = refused(command, ROOT, REDIS_URL=password_redis.url)
    assert ok.returncode == 0, ok.stderr
    assert f"redis://:***@127.0.0.1:{password_redis.port}/0" in ok.stdout
    closed = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"
    failed = refused(command, ROOT, REDIS_URL=closed)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: no new generation marker written on redis://:***@")
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert_nothing_secret(ok.stdout + ok.stderr + failed.stdout + failed.stderr)
