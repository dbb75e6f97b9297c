"""The Procfile's `web` line with REDIS_URL unset: the gunicorn master starts
one embedded redis-server that every worker shares (loopback only, its password
kept 0600 in the 0700 data directory, never printed), and stops it on exit."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import pytest
import redis

from config.data_dir import REDIS_PASSWORD_FILE
from tests.integration.client import ScanClient
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

FOLLOW_TIMEOUT_S = 30.0


def redis_pid(data_dir: Path) -> int | None:
    """The redis-server working in ``data_dir`` (it renames its argv, but
    `--dir` makes the directory its working directory)."""
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or b"redis-server" not in (entry / "cmdline").read_bytes():
                continue
            if (entry / "cwd").resolve() == data_dir:
                return int(entry.name)
        except OSError:
            continue
    return None


def assert_private_and_guarded(data_dir: Path, pid: int, log_path: Path) -> None:
    """0700 directory, 0600 password, never on redis-server's command line (which
    every local user can read) nor in the log; loopback only; no entry without it."""
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    password_file = data_dir / REDIS_PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    log = log_path.read_text()
    assert password not in log
    found = re.search(r"embedded redis-server on redis://:\*\*\*@127\.0\.0\.1:(\d+)/0", log)
    assert found, log
    with redis.Redis(port=int(found[1])) as bare, pytest.raises(redis.AuthenticationError):
        bare.ping()
    with redis.Redis(port=int(found[1]), password=password) as client:
        assert client.config_get("bind")["bind"] == "127.0.0.1"


async def test_web_line_without_redis_url_runs_on_one_embedded_redis(tmp_path: Path) -> None:
    data_dir = (tmp_path / "redis").resolve()
    service = Service(
        "", tmp_path / "service.log", env_overrides={"OPPSCAN_DATA_DIR": str(data_dir)}, workers=2
    )
    service.start()
    client = ScanClient(service.base_url)
    try:
        assert (data_dir / "appendonlydir").exists() or (data_dir / "appendonly.aof").exists()
        pid = redis_pid(data_dir)
        assert pid is not None, "no embedded redis-server in the data directory"
        assert_private_and_guarded(data_dir, pid, service.log_path)
        created = [await client.start(f"embedded-{i}", ["noop"]) for i in range(4)]
        for i, scan in enumerate(created):
            final = await client.follow(f"embedded-{i}", scan["scan_id"], FOLLOW_TIMEOUT_S)
            assert final["status"] == "completed"
        assert client.log.not_found == 0
    finally:
        await client.close()
        service.stop()

    async def redis_gone() -> bool:
        return await asyncio.sleep(0, redis_pid(data_dir) is None)

    await eventually(redis_gone, timeout_s=10, what="the embedded redis-server to stop")
