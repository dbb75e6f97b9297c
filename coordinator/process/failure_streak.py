"""One log line per outage, not one per retry.

A loop that retries against Redis (a periodic duty, a pub/sub listener, the
start-up wait) logs the first failure of a streak as a warning and, once it
succeeds again, one line saying it recovered and after how many failures:
losing Redis for a minute is two lines per loop, not hundreds.
"""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)


class FailureStreak:
    def __init__(self, failed_event: str, recovered_event: str, **fields: Any) -> None:
        self.failed_event = failed_event
        self.recovered_event = recovered_event
        self.fields = fields
        self.failures = 0

    def failed(self, exc: BaseException, **extra: Any) -> None:
        if not self.failures:
            log.warning(self.failed_event, error=repr(exc), **self.fields, **extra)
        self.failures += 1

    def succeeded(self) -> None:
        if self.failures:
            log.info(self.recovered_event, failures=self.failures, **self.fields)
        self.failures = 0
