"""Metric values keep the process id instead of asking for it per update: the kept
id must be the child's own after a fork (gunicorn forks its workers), or the
workers would write into one another's files. A histogram's increments are
summed in memory and reach the process's file when written (periodically, before
a scrape, at exit): a scrape then sees every one of them, once. Counters are
written at once."""

from __future__ import annotations

import os

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values

from coordinator.process.metric_values import (
    MULTIPROC_ENV,
    UNWRITTEN,
    ProcessId,
    install,
    write_unwritten,
)


@pytest.mark.processes  # forks a child
def test_the_kept_process_id_is_the_forked_childs_own() -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports what it keeps, then leaves at once
        os.write(write_end, f"{ProcessId.current()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write_end)
    kept, actual = os.read(read_end, 64).decode().split()
    os.close(read_end)
    os.waitpid(child, 0)
    assert kept == actual == str(child)
    assert ProcessId.current() == os.getpid()


def test_multiprocess_values_read_the_kept_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)  # restored afterwards
    calls: list[int] = []
    monkeypatch.setattr(ProcessId, "current", classmethod(lambda cls: calls.append(1) or cls.value))

    install()
    value = values.ValueClass("counter", "probe_total", "probe_total", (), (), "probe")
    value.inc(1)

    assert calls, "the multiprocess value never asked the kept id"


def multiprocess_mode(monkeypatch: pytest.MonkeyPatch, directory: os.PathLike[str]) -> None:
    """Values made from now on are multiprocess ones writing under ``directory``."""
    monkeypatch.setenv(MULTIPROC_ENV, str(directory))
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)  # restored afterwards
    install()


def scraped(directory: os.PathLike[str], name: str) -> float:
    """What a scrape of the multiprocess directory reads for a sample."""
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged, path=str(directory))
    value = merged.get_sample_value(name)
    return 0.0 if value is None else value


def test_histogram_increments_reach_the_file_when_written_and_only_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    multiprocess_mode(monkeypatch, tmp_path)
    histogram = Histogram("probe_seconds", "probe", registry=None)
    for _ in range(5):
        histogram.observe(0.01)
    # The process's own view includes them at once.
    [own] = [s for s in histogram.collect()[0].samples if s.name == "probe_seconds_count"]
    assert own.value == 5
    assert scraped(tmp_path, "probe_seconds_count") == 0, "written per observation"
    write_unwritten()
    assert scraped(tmp_path, "probe_seconds_count") == 5
    assert scraped(tmp_path, "probe_seconds_sum") == pytest.approx(0.05)
    assert not UNWRITTEN
    write_unwritten()  # nothing new: nothing written twice
    histogram.observe(0.01)
    write_unwritten()
    assert scraped(tmp_path, "probe_seconds_count") == 6


def test_counters_are_written_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    multiprocess_mode(monkeypatch, tmp_path)
    counter = Counter("probe_runs", "probe", registry=None)
    counter.inc(2)
    assert scraped(tmp_path, "probe_runs_total") == 2
    assert not UNWRITTEN


@pytest.mark.processes  # forks a child
def test_a_forked_child_never_writes_what_its_parent_summed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    multiprocess_mode(monkeypatch, tmp_path)
    histogram = Histogram("fork_probe_seconds", "probe", registry=None)
    histogram.observe(0.01)  # summed in the parent, not yet written
    child = os.fork()
    if child == 0:
        code = 0 if not UNWRITTEN else 1
        write_unwritten()
        os._exit(code)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child inherited the parent's sums"
    write_unwritten()
    assert scraped(tmp_path, "fork_probe_seconds_count") == 1
