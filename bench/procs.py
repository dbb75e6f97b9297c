"""Processes the runner starts: the benchmark's own redis-server, the service's
Procfile processes, the peers' workers and status servers, and the drivers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_VENVS = ROOT / ".venv-bench"
LOG_DIR = ROOT / "bench" / "results" / "logs"
# Gunicorn workers import numpy and TA-Lib; peers' workers start in about a second.
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
POLL_S = 0.05


def python_of(system: str) -> str:
    """The interpreter of a system: peers each live in their own virtualenv, because
    arq needs redis-py < 6 and kombu's redis extra >= 6.4 (the service uses 8)."""
    if system in ("arq", "saq", "celery"):
        return str(PEER_VENVS / system / "bin" / "python")
    return sys.executable


def base_env(redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["BENCH_REDIS_URL"] = redis_url
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def children_of(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except FileNotFoundError:
        return []
    return found


@dataclass
class Proc:
    """One started process group, stopped with SIGTERM then SIGKILL."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def start(self) -> Proc:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Children a killed parent left behind (gunicorn workers, prefork pools).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


def wait_http(url: str, timeout_s: float = STARTUP_TIMEOUT_S, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # a 404 for a probe id still means the server is up
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_S)
    raise TimeoutError(f"{url} not answering within {timeout_s} s")


def run_driver(
    system: str,
    workload: str,
    params: dict[str, object],
    redis_url: str,
    timeout_s: float,
    env: dict[str, str] | None = None,
) -> dict[str, object]:
    """Run `python -m bench.drive` in the system's interpreter; return its JSON result."""
    argv = [python_of(system), "-m", "bench.drive", system, workload, json.dumps(params)]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**base_env(redis_url), **(env or {})},
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = done.stderr.decode()[-2000:]
        return {"error": f"driver exited {done.returncode}: {tail}"}
    result: dict[str, object] = json.loads(lines[-1])
    return result
