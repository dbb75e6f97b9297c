"""Scenarios 5 and 6: strategy work and reports under faults.

5. The worker running a strategy is killed between taking the task and
   acknowledging it: another worker reclaims it and runs it once more; its
   report applies once. A task whose worker dies on every delivery ends
   `failed` after the bounded deliveries; an always-raising strategy ends failed.
6. A report appended twice (a client retry after a lost reply) and a zombie
   attempt reporting after its retry started: each is applied once or ignored.
"""

from __future__ import annotations

import signal
import time

import pytest

from coordinator.actor.mailbox import Mailbox
from coordinator.process.clock import now_ms
from coordinator.store.records import Report, Started, StrategyStatus
from coordinator.store.redis_client import connect
from coordinator.store.scripts import queue_call
from tests.chaos.history import ReportAck
from tests.chaos.scenario import Run, as_probe
from tests.integration.service import Service
from tests.support import eventually

pytestmark = pytest.mark.processes

# Matches the service default (MAX_STRATEGY_DELIVERIES): deliveries before giving up.
MAX_DELIVERIES = 3
RUN_LINE_TIMEOUT_S = 20.0
RETRY_WORKER = "chaos:retry"


def runs_of(service: Service, scan_id: str, strategy: str) -> list[dict]:  # type: ignore[type-arg]
    return [
        line
        for line in service.log_lines("strategy_run")
        if line.get("scan_id") == scan_id and line.get("strategy") == strategy
    ]


async def kill_the_runner(service: Service, scan_id: str, strategy: str, attempt: int) -> int:
    """kill -9 the worker process running this attempt of the strategy."""

    def running():  # type: ignore[no-untyped-def]
        return [line for line in runs_of(service, scan_id, strategy) if line["attempt"] == attempt]

    [line] = await eventually(
        as_probe(running), timeout_s=RUN_LINE_TIMEOUT_S, what=f"{strategy} attempt {attempt}"
    )
    pid = int(str(line["worker_id"]).rsplit(":", 1)[1])
    service.signal_worker(pid, signal.SIGKILL)
    return pid


async def test_s05_strategy_worker_killed_before_ack_is_reclaimed_and_applied_once(
    fault_service: Service,
) -> None:
    run = Run(fault_service, "s05-reclaim")
    try:
        await run.start(["noop", "sleep_2s", "explode"], wait_for_report=False)
        killed_at = time.monotonic()
        await kill_the_runner(fault_service, run.scan_id, "sleep_2s", attempt=1)
        final = await run.finish()
    finally:
        await run.close()
    reclaimed_after_s = time.monotonic() - killed_at
    strategies = {s["name"]: s for s in final["strategies"]}
    assert final["status"] == "completed"
    assert (strategies["sleep_2s"]["status"], strategies["sleep_2s"]["attempt"]) == ("completed", 2)
    assert [line["attempt"] for line in runs_of(fault_service, run.scan_id, "sleep_2s")] == [1, 2]
    assert strategies["explode"]["status"] == "failed"
    assert "DiagnosticFailure" in strategies["explode"]["error"]
    print(f"\nS5 strategy worker kill -9: reclaimed and finished {reclaimed_after_s:.2f} s later")


async def test_s05_task_whose_worker_dies_every_time_ends_failed_after_bounded_deliveries(
    fault_service: Service,
) -> None:
    run = Run(fault_service, "s05-poison")
    try:
        await run.start(["noop", "sleep_2s"], wait_for_report=False)
        for attempt in range(1, MAX_DELIVERIES + 1):
            await kill_the_runner(fault_service, run.scan_id, "sleep_2s", attempt)
        final = await run.finish()
    finally:
        await run.close()
    [item] = [s for s in final["strategies"] if s["name"] == "sleep_2s"]
    assert final["status"] == "completed"  # noop completed; the poison task failed
    assert item["status"] == "failed"
    assert f"gave up after {MAX_DELIVERIES} deliveries" in item["error"]
    assert len(runs_of(fault_service, run.scan_id, "sleep_2s")) == MAX_DELIVERIES


def report(strategy: str, attempt: int) -> Report:
    return Report(
        report_id=f"{strategy}:{attempt}",
        strategy=strategy,
        attempt=attempt,
        status=StrategyStatus.COMPLETED,
        worker=RETRY_WORKER,
        at_ms=now_ms(),
        duration_ms=1.0,
    )


async def test_s06_duplicate_report_and_zombie_attempt_are_each_applied_once_or_ignored(
    fault_service: Service,
) -> None:
    run = Run(fault_service, "s06-reports")
    redis = connect(fault_service.redis_url)
    mailbox = Mailbox(redis)
    try:
        await run.start(["noop", "sleep_2s"])
        # While the real attempt 1 of sleep_2s still runs: attempt 2 starts (a
        # retry), the zombie attempt 1 reports late, then attempt 2 reports and
        # its client retries the append after a lost reply. One script call,
        # so the owner folds them in this order, before the scan can end.
        messages = [
            Started(strategy="sleep_2s", attempt=2, worker=RETRY_WORKER, at_ms=now_ms()),
            report("sleep_2s", 1),
            report("sleep_2s", 2),
            report("sleep_2s", 2),
        ]
        append = mailbox.append_call(run.scan_id, messages)
        async with redis.pipeline(transaction=True) as pipe:
            queue_call(pipe, append)
            (reply,) = await pipe.execute()
        assert append.reply(reply) is not None, "an append was refused"
        for message in messages[1:]:
            run.history.acks.append(
                ReportAck(
                    run.scan_id, message.strategy, message.attempt, message.report_id, RETRY_WORKER
                )
            )
        final = await run.finish()
        events = await run.client.lifecycle(run.user, run.scan_id)
    finally:
        await run.close()
        await redis.aclose()
    [item] = [s for s in final["strategies"] if s["name"] == "sleep_2s"]
    assert (item["status"], item["attempt"]) == ("completed", 2)
    finished = [
        e for e in events if e["event"] == "strategy_finished" and e["strategy"] == "sleep_2s"
    ]
    assert [e["worker"] for e in finished] == [RETRY_WORKER], finished
