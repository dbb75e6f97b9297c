"""Periodic duties: each its own small loop that logs, carries on after an
error, and stops on an event (SAQ's upkeep). A duty failing again and again
(Redis away) logs its first failure and its recovery, not every attempt."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from coordinator.process.failure_streak import FailureStreak


async def run_periodic(
    name: str, interval_s: float, duty: Callable[[], Awaitable[object]], stop: asyncio.Event
) -> None:
    streak = FailureStreak("periodic_duty_failed", "periodic_duty_recovered", duty=name)
    while not stop.is_set():
        try:
            await duty()
            streak.succeeded()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            streak.failed(exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
