"""Scenarios 7, 8 and 9: the redis-server process is killed and restarted with
its append-only file, restarted empty, or paused for longer than the lease."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from coordinator.process.embedded_redis import EmbeddedRedis
from tests.chaos import redis_faults
from tests.chaos.harness import (
    FAST_ENV,
    LEASE_TTL_S,
    ChaosClient,
    closed_everywhere,
    ready_everywhere,
)
from tests.chaos.history import History
from tests.chaos.scenario import Fleet
from tests.integration.service import ROOT, Service
from tests.support import eventually

pytestmark = pytest.mark.processes

SCANS = 6
STRATEGIES = ["noop", "sleep_500ms", "sleep_2s"]
# The fault itself: how long Redis stays down before it is restarted.
OUTAGE_S = 1.0
# Readiness probes in a row that must agree, so every worker was asked.
PROBES = 12
# Workers reconnect with backoff capped at 1 s; the target is 5 s.
SERVING_AGAIN_TIMEOUT_S = 15.0
FAIL_CLOSED_TIMEOUT_S = 10.0
WEB_WORKERS = 3
# Rounds of readiness probes after a worker restart, spanning several generation checks.
STILL_CLOSED_CHECKS = 5


async def test_s07_redis_kill_9_and_restart_with_aof_loses_no_acknowledged_report(
    start_service, redis_server: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WEB_WORKERS, **FAST_ENV)
    fleet = Fleet(service, "s07")
    try:
        await fleet.start(SCANS, STRATEGIES)
        await fleet.all_running_with_a_report()
        redis_faults.kill_9(redis_server)
        await asyncio.sleep(OUTAGE_S)
        redis_faults.restart(redis_server)
        back_mono = time.monotonic()
        await eventually(
            lambda: ready_everywhere(service.base_url, PROBES),
            timeout_s=SERVING_AGAIN_TIMEOUT_S,
            what="every worker ready again",
        )
        serving_s = time.monotonic() - back_mono
        finals = await fleet.finish()  # the checker counts any acknowledged report lost
    finally:
        await fleet.close()
    assert [final["status"] for final in finals] == ["completed"] * SCANS
    acks = len(fleet.history.acks)
    print(
        f"\nS7 redis kill -9 + AOF restart: serving again {serving_s:.2f} s after Redis "
        f"returned; {SCANS} scans completed, {acks} acknowledged reports all applied once"
    )


async def test_s09_redis_paused_past_the_lease_owners_self_fence_and_scans_complete_once(
    start_service, redis_server: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WEB_WORKERS, **FAST_ENV)
    fleet = Fleet(service, "s09")
    try:
        scan_ids = await fleet.start(SCANS, STRATEGIES)
        await fleet.all_running_with_a_report()
        redis_faults.pause(redis_server)
        await asyncio.sleep(2 * LEASE_TTL_S)  # the fault itself: paused for twice the lease
        redis_faults.resume(redis_server)
        finals = await fleet.finish()  # the checker: one owner at a time, one terminal state
    finally:
        redis_faults.resume(redis_server)
        await fleet.close()
    assert [final["status"] for final in finals] == ["completed"] * SCANS
    assert all(final["epoch"] >= 2 for final in finals), "a lease outlived a pause past its TTL"
    fenced = [
        line for line in service.log_lines("scan_actor_fenced") if line.get("scan_id") in scan_ids
    ]
    assert fenced, "no owner fenced itself"
    stale_accepted = [
        w
        for w in fleet.history.writes
        if w.outcome == "accepted"
        and w.epoch < max_epoch_before(fleet.history, w.scan_id, w.sent_mono)
    ]
    assert not stale_accepted
    print(
        f"\nS9 redis SIGSTOP {2 * LEASE_TTL_S:.1f} s: {len(fenced)} owners fenced, "
        f"every scan moved to epoch >= 2 and completed once"
    )


def max_epoch_before(history: History, scan_id: str, mono: float) -> int:
    epochs = [
        w.epoch
        for w in history.writes_of(scan_id)
        if w.outcome == "accepted" and w.reply_mono < mono
    ]
    return max(epochs, default=0)


async def test_s08_redis_restarted_empty_fails_closed_until_the_recovery_command(
    start_service, redis_server: EmbeddedRedis
) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WEB_WORKERS, **FAST_ENV)
    before = Fleet(service, "s08-lost")
    after = Fleet(service, "s08-after")
    probe = ChaosClient(service.base_url, History(), name="s08-probe")
    try:
        [lost_scan] = await before.start(1, STRATEGIES)
        await before.all_running_with_a_report()
        redis_faults.kill_9(redis_server)
        redis_faults.wipe(redis_server)
        redis_faults.restart(redis_server)
        emptied_mono = time.monotonic()
        await eventually(
            lambda: closed_everywhere(service.base_url, PROBES),
            timeout_s=FAIL_CLOSED_TIMEOUT_S,
            what="every worker failing closed",
        )
        status, body = await probe.get_json(before.users[lost_scan], f"/api/v1/scans/{lost_scan}")
        assert (status, body["error"]["code"]) == (503, "redis_data_lost"), (status, body)
        assert await probe.create("s08-during", ["noop"]) is None
        # The probes need not reach every worker (gunicorn spreads accepts
        # unevenly): each worker's own log line is the proof it closed.
        await eventually(
            lambda: every_worker_logged(service, "redis_generation_lost"),
            timeout_s=FAIL_CLOSED_TIMEOUT_S,
            what="every worker's redis_generation_lost line",
        )
        lost_lines = service.log_lines("redis_generation_lost")
        assert "coordinator.recover" in str(lost_lines[0]["action"])
        # A worker restarted now (a crash, max_requests) must fail closed too,
        # not start a new generation on the empty database that the others adopt.
        await respawn_one_worker(service)
        for _ in range(STILL_CLOSED_CHECKS):
            assert await closed_everywhere(service.base_url, PROBES), "resumed without recovery"
        recover_mono = time.monotonic()
        run_recovery(redis_server.url)
        await eventually(
            lambda: ready_everywhere(service.base_url, PROBES),
            timeout_s=SERVING_AGAIN_TIMEOUT_S,
            what="every worker serving after recovery",
        )
        serving_s = time.monotonic() - recover_mono
        # Likewise the ready probes: each worker's own line says it serves again,
        # before scans are created on whichever worker takes them.
        await eventually(
            lambda: every_worker_logged(service, "redis_generation_recovered"),
            timeout_s=SERVING_AGAIN_TIMEOUT_S,
            what="every worker's redis_generation_recovered line",
        )
        await after.start(2, STRATEGIES)
        finals = await after.finish()
    finally:
        await before.close()
        await after.close()
        await probe.close()
    assert [final["status"] for final in finals] == ["completed"] * 2
    history = History()
    history.add_log_lines(service.log_lines())
    silent = [
        w
        for w in history.writes
        if w.outcome == "accepted" and emptied_mono < w.sent_mono < recover_mono
    ]
    assert not silent, f"writes accepted on the emptied Redis before recovery: {silent}"
    print(
        f"\nS8 redis restarted empty: failed closed on every worker (503 redis_data_lost); "
        f"serving {serving_s:.2f} s after `python -m coordinator.recover`"
    )


async def every_worker_logged(service: Service, event: str) -> bool:
    """Every live worker of the service wrote a line of ``event``."""
    lines = service.log_lines(event)
    live = {f"{pid}" for pid in service.worker_pids()}
    return live <= {str(line["worker_id"]).rsplit(":", 1)[1] for line in lines}


async def respawn_one_worker(service: Service) -> None:
    """kill -9 one web worker and wait until gunicorn's replacement has started."""
    victim = service.worker_pids()[0]
    service.signal_worker(victim, signal.SIGKILL)

    async def replaced() -> bool:
        pids = set(service.worker_pids())
        started = {
            int(str(line["worker_id"]).rsplit(":", 1)[1])
            for line in service.log_lines("coordinator_started")
        }
        return victim not in pids and len(pids & started) == len(pids) == WEB_WORKERS

    await eventually(replaced, timeout_s=FAIL_CLOSED_TIMEOUT_S, what="a replacement worker")


def run_recovery(redis_url: str) -> None:
    """The operator's documented command, as a real process."""
    env = {**os.environ, "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-m", "coordinator.recover"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SERVING_AGAIN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "new generation marker" in done.stdout
