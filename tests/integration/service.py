"""Real worker processes: the Procfile's `web` command (gunicorn, several
aiohttp workers) on a private redis-server, with helpers to find and signal
the worker that owns a scan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from coordinator.process.embedded_redis import free_port
from tests.support import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
# Gunicorn plus three workers importing numpy and TA-Lib take a few seconds.
STARTUP_TIMEOUT_S = 60.0
POLL_S = 0.05


def procfile_command(process_type: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return command.strip()
    raise LookupError(process_type)


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


@dataclass
class Service:
    """A running `web` process type (gunicorn master + workers) and its logs."""

    redis_url: str
    log_path: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    workers: int = 3
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "REDIS_URL": self.redis_url,
                "JWT_SECRET": TEST_SECRET,
                "PORT": str(self.port),
                "WEB_CONCURRENCY": str(self.workers),
                "DIAGNOSTIC_STRATEGIES": "1",
                "HOST": "127.0.0.1",
                # Tests running real strategies would each start a minute of evidence
                # computing in the background; those about evidence turn it on.
                "EVIDENCE_COMPUTE": "0",
            }
        )
        env.update(self.env_overrides)
        env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
        return env

    def start(self) -> Service:
        self.port = self.port or free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["sh", "-c", f"exec {procfile_command('web')}"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.wait_for_workers(self.workers)
        return self

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return children_of(self.process.pid)

    def wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            started = self.log_lines("coordinator_started")
            live = {line.get("worker_id") for line in started}
            pids = set(self.worker_pids())
            if len({w for w in live if w and int(w.rsplit(":", 1)[1]) in pids}) >= count:
                return
            time.sleep(POLL_S)
        raise TimeoutError(f"{count} workers not ready; see {self.log_path}")

    def log_lines(self, event: str | None = None) -> list[dict[str, object]]:
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            if not raw.startswith("{"):
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if event is None or line.get("event") == event:
                lines.append(line)
        return lines

    def signal_worker(self, pid: int, signum: signal.Signals) -> None:
        assert pid in self.worker_pids(), f"{pid} is not a worker of this service"
        os.kill(pid, signum)

    def stop(self) -> None:
        if self.process is None:
            return
        for pid in self.worker_pids():
            os.kill(pid, signal.SIGCONT)  # a stopped worker cannot shut down
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@dataclass
class WorkerProcess:
    """The Procfile's `worker` process type: a coordinator with no HTTP."""

    redis_url: str
    log_path: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = dict(os.environ)
        env.update(
            {
                "REDIS_URL": self.redis_url,
                "JWT_SECRET": TEST_SECRET,
                "DIAGNOSTIC_STRATEGIES": "1",
                "EVIDENCE_COMPUTE": "0",  # as for the web workers (see Service.env)
            }
        )
        env.update(self.env_overrides)
        env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["sh", "-c", f"exec {procfile_command('worker')}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=30)
