"""The `processes` marker, kept true: `make test-fast` (``-m "not processes"``) runs only
tests that start no process, and every other test says so.

A test is marked `processes` when it uses a fixture that starts one (a real
redis-server, a Cluster, a Sentinel) or when its module or function carries the
marker (gunicorn workers, CLI subprocesses). Any other test that starts a process
anyway fails with a message naming the marker, so the fast run cannot quietly
start redis-servers again as tests are added.
"""

from __future__ import annotations

import multiprocessing.util
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

MARKER = "processes"
# The fixtures of tests/conftest.py that start a process (a real redis-server or several).
PROCESS_FIXTURES = frozenset(
    {"shared_redis_server", "redis_server", "redis_cluster", "redis_sentinel"}
)
# Every way a test (or a library it calls) starts a process: asyncio's subprocesses
# go through subprocess.Popen, multiprocessing through os.fork or spawnv_passfds.
SPAWNERS: tuple[tuple[object, str], ...] = (
    (subprocess.Popen, "__init__"),
    (os, "fork"),
    (os, "forkpty"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
    (os, "system"),
    (multiprocessing.util, "spawnv_passfds"),
)


class StartedAProcess(AssertionError):
    """A test not marked `processes` started one."""

    def __init__(self, nodeid: str, how: str) -> None:
        self.nodeid = nodeid
        super().__init__(
            f"{nodeid} started a process ({how}) but is not marked '{MARKER}': add "
            f"`pytestmark = pytest.mark.{MARKER}` to its module (or mark the test), so "
            "`make test-fast` leaves it out"
        )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(MARKER)


def refusing(nodeid: str, how: str) -> Callable[..., NoReturn]:
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise StartedAProcess(nodeid, how)

    return refuse


@pytest.fixture(autouse=True)
def no_process_unless_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """In a test not marked `processes`, every way to start a process raises."""
    if request.node.get_closest_marker(MARKER) is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        for owner, name in SPAWNERS:
            if hasattr(owner, name):
                label = getattr(owner, "__name__", type(owner).__name__)
                patch.setattr(owner, name, refusing(request.node.nodeid, f"{label}.{name}"))
        yield
