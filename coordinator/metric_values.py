"""prometheus-client's multiprocess values without a system call per update.

In multiprocess mode every metric update asks ``os.getpid()`` (to notice that it
runs in a forked child); that is a system call, and a busy worker updates
dozens of values per scan: 4-5 % of its CPU in a profile. The process id is kept
instead, and refreshed in every forked child, which is all the check needs.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from prometheus_client import values

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ProcessId:
    value = os.getpid()

    @classmethod
    def refresh(cls) -> None:
        cls.value = os.getpid()

    @classmethod
    def current(cls) -> int:
        return cls.value


os.register_at_fork(after_in_child=ProcessId.refresh)


def install() -> None:
    """Before any metric is made: multiprocess values that read the kept id."""
    if os.environ.get(MULTIPROC_ENV):
        values.ValueClass = values.MultiProcessValue(process_identifier=ProcessId.current)


@functools.cache
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per process: prometheus-client
    converts the labels and takes a lock on every call, and hot paths label every
    strategy run and every request. Label values here come from bounded sets
    (strategy names, routes, methods, statuses), as any label's must."""
    return metric.labels(*labels)
