"""prometheus-client's multiprocess values, made cheap to update.

In multiprocess mode every metric update asks ``os.getpid()`` (to notice that it
runs in a forked child); that is a system call, and a busy worker updates
dozens of values per scan: 4-5 % of its CPU in a profile. The process id is kept
instead, and refreshed in every forked child, which is all the check needs.

Each update also took a lock and packed the value into the process's mmapped
file: still 3-4 % of a busy worker's CPU, mostly histograms' (an observation is
two updates, and every strategy run and request is observed). A histogram's
increments are now summed in memory and written by ``write_unwritten()``: every
WRITE_INTERVAL_S (a duty of the coordinator), before this process serves a
scrape, and at exit; a scrape served by another process sees them at most that
much late. Counters and gauges are still written at once: any process's scrape
counts every scan started or finished the moment it was.
"""

from __future__ import annotations

import atexit
import functools
import os
from typing import Any

from prometheus_client import values

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How often a process writes the histogram increments it summed in memory.
WRITE_INTERVAL_S = 1.0


class ProcessId:
    value = os.getpid()

    @classmethod
    def refresh(cls) -> None:
        cls.value = os.getpid()

    @classmethod
    def current(cls) -> int:
        return cls.value


os.register_at_fork(after_in_child=ProcessId.refresh)


# Values with increments not yet written to this process's file.
UNWRITTEN: set[Any] = set()


def buffered(written: Any) -> Any:
    """A subclass of the multiprocess value class ``written`` whose increments wait
    in memory for write_unwritten()."""

    class BufferedValue(written):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.unwritten = 0.0

        def inc(self, amount: float) -> None:
            self.unwritten += amount
            UNWRITTEN.add(self)

        def set(self, value: float, timestamp: float | None = None) -> None:
            self.unwritten = 0.0  # a set replaces what was added before it
            UNWRITTEN.discard(self)
            super().set(value, timestamp)

        def get(self) -> float:
            return float(super().get()) + self.unwritten

        def write(self) -> None:
            amount, self.unwritten = self.unwritten, 0.0
            super().inc(amount)

    return BufferedValue


def write_unwritten() -> None:
    """Write every summed increment to this process's file (one update per value)."""
    while UNWRITTEN:
        UNWRITTEN.pop().write()


def forget_unwritten() -> None:
    """In a forked child: what the parent summed is the parent's to write."""
    for value in UNWRITTEN:
        value.unwritten = 0.0
    UNWRITTEN.clear()


os.register_at_fork(after_in_child=forget_unwritten)
atexit.register(write_unwritten)


def value_class(written: Any) -> Any:
    """What prometheus-client makes each value with: a histogram's buffered, the
    others' ``written`` as they are."""
    histogram_value = buffered(written)

    def make(typ: str, *args: Any, **kwargs: Any) -> Any:
        return (histogram_value if typ == "histogram" else written)(typ, *args, **kwargs)

    return make


def install() -> None:
    """Before any metric is made: multiprocess values that read the kept id, and
    histograms that sum their increments in memory."""
    if os.environ.get(MULTIPROC_ENV):
        values.ValueClass = value_class(
            values.MultiProcessValue(process_identifier=ProcessId.current)
        )


@functools.cache
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per process: prometheus-client
    converts the labels and takes a lock on every call, and hot paths label every
    strategy run and every request. Label values here come from bounded sets
    (strategy names, routes, methods, statuses), as any label's must."""
    return metric.labels(*labels)
