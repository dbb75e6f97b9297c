"""Starting what is measured: Opportunity Scanner's Procfile processes, the peers'
workers, and the status servers (the floor and the peers' status APIs behind the
same aiohttp worker under gunicorn)."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from bench.procs import ROOT, STARTUP_TIMEOUT_S, Proc, base_env, children_of, python_of, wait_http
from coordinator.process.embedded_redis import free_port
from coordinator.store import keys

JWT_SECRET = "bench-secret-not-for-production-0123456789"
POLL_S = 0.05
STATUS_MODULES = {
    "floor": "bench.adapters.floor",
    "arq": "bench.adapters.arq_peer",
    "saq": "bench.adapters.saq_peer",
    "celery": "bench.adapters.celery_peer",
}


def procfile_command(process_type: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return command.strip()
    raise LookupError(process_type)


def oppscan_env(redis_url: str, port: int, workers: int, extra: dict[str, str]) -> dict[str, str]:
    env = base_env(redis_url)
    env.update(
        {
            "REDIS_URL": redis_url,
            "JWT_SECRET": JWT_SECRET,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "DIAGNOSTIC_STRATEGIES": "1",
            # Peers run without per-job log lines; so does the service here.
            "LOG_LEVEL": "warning",
            "PATH": f"{Path(python_of('oppscan')).parent}:{env.get('PATH', '')}",
        }
    )
    env.update(extra)
    return env


def start_oppscan(
    redis_url: str, workers: int, tag: str, extra: dict[str, str] | None = None
) -> tuple[Proc, str]:
    """The Procfile's `web` process with `workers` gunicorn workers; ready when every
    worker's coordinator has its heartbeat in Redis and HTTP answers."""
    port = free_port()
    env = oppscan_env(redis_url, port, workers, extra or {})
    proc = Proc(f"oppscan-{tag}", ["sh", "-c", f"exec {procfile_command('web')}"], env).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_workers(redis_url, proc, workers)
        wait_http(f"{base_url}/healthz", proc=proc)
    except Exception:
        proc.stop()
        raise
    return proc, base_url


def start_oppscan_worker(redis_url: str, tag: str, extra: dict[str, str] | None = None) -> Proc:
    env = oppscan_env(redis_url, 0, 1, extra or {})
    for web_only in ("PORT", "WEB_CONCURRENCY"):  # the worker process type serves no HTTP
        env.pop(web_only)
    return Proc(
        f"oppscan-worker-{tag}", ["sh", "-c", f"exec {procfile_command('worker')}"], env
    ).start()


def wait_workers(redis_url: str, proc: Proc, count: int) -> None:
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
            pids = set(children_of(proc.pid))
            live = {raw.decode() for raw in client.zrange(keys.workers_index(), 0, -1)}
            if len({w for w in live if int(w.rsplit(":", 1)[1]) in pids}) >= count:
                return
            time.sleep(POLL_S)
    finally:
        client.close()
    raise TimeoutError(f"{count} workers of {proc.name} not ready; see {proc.log_path}")


def peer_worker_argv(peer: str, takeover: bool) -> list[str]:
    python = python_of(peer)
    if peer == "arq":
        settings = "TakeoverWorkerSettings" if takeover else "WorkerSettings"
        return [python, "-m", "arq", f"bench.adapters.arq_peer.{settings}"]
    if peer == "saq":
        return [python, "-m", "saq", "bench.adapters.saq_peer.settings", "--quiet"]
    # Settings in bench/adapters/celery_peer.py (CONCURRENCY, PREFETCH): kept in step.
    return [
        python,
        "-m",
        "celery",
        "-A",
        "bench.adapters.celery_peer",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "16",
        "--loglevel",
        "warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-O",
        "fair",
    ]


def start_peer_workers(
    redis_url: str, peer: str, count: int, tag: str, *, takeover: bool = False
) -> list[Proc]:
    env = base_env(redis_url)
    if takeover:
        env["BENCH_CELERY_TAKEOVER"] = env["BENCH_SAQ_TAKEOVER"] = "1"
    return [
        Proc(f"{peer}-worker-{tag}-{n}", peer_worker_argv(peer, takeover), env).start()
        for n in range(count)
    ]


def start_status_server(redis_url: str, system: str, workers: int, tag: str) -> tuple[Proc, str]:
    port = free_port()
    argv = [
        python_of(system),
        "-m",
        "gunicorn",
        f"{STATUS_MODULES[system]}:status_app",
        "--worker-class",
        "aiohttp.GunicornUVLoopWebWorker",  # what the Procfile's worker class extends
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    proc = Proc(f"{system}-status-{tag}", argv, base_env(redis_url)).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base_url}/status/probe", proc=proc)
    except Exception:
        proc.stop()
        raise
    return proc, base_url
