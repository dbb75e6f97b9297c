"""Periodic duties: each its own small loop that logs, carries on after an
error, and stops on an event (SAQ's upkeep)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def run_periodic(
    name: str, interval_s: float, duty: Callable[[], Awaitable[object]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            await duty()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("periodic_duty_failed", duty=name, error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
