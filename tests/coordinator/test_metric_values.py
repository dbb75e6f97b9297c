"""Metric values keep the process id instead of asking for it per update: the kept
id must be the child's own after a fork (gunicorn forks its workers), or the
workers would write into one another's files."""

from __future__ import annotations

import os

import pytest
from prometheus_client import values

from coordinator.metric_values import MULTIPROC_ENV, ProcessId, install


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
