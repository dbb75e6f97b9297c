"""A loop retrying against an unreachable Redis logs the outage once and its end
once, not every attempt."""

from __future__ import annotations

import asyncio

from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from coordinator.service.periodic import run_periodic

FAILURES = 7


async def test_a_failing_duty_logs_its_first_failure_and_its_recovery_only() -> None:
    stop = asyncio.Event()
    calls = 0

    async def duty() -> None:
        nonlocal calls
        calls += 1
        if calls == FAILURES + 2:
            stop.set()
        if calls <= FAILURES:
            raise RedisConnectionError("Connection refused")

    with capture_logs() as logs:
        await asyncio.wait_for(run_periodic("sweep", 0, duty, stop), timeout=10)
    events = [(line["event"], line.get("failures")) for line in logs]
    assert events == [("periodic_duty_failed", None), ("periodic_duty_recovered", FAILURES)]
    assert logs[0]["duty"] == "sweep" and "ConnectionError" in logs[0]["error"]
