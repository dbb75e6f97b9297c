"""The `processes` marker is kept true (tests/process_guard.py): a test using a fixture
that starts redis-server is marked by itself, and an unmarked test that starts a
process fails saying so, so `make test-fast` runs no process."""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)
# The inner run's marked test really starts one.
pytestmark = pytest.mark.processes

INNER_TESTS = """
import multiprocessing
import os
import subprocess
import sys

import pytest


@pytest.fixture
def redis_server():
    return "a stand-in for the fixture that starts redis-server"


def test_uses_a_process_fixture(redis_server):
    pass


def test_pure():
    pass


def test_starts_a_subprocess():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_forks():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def test_spawns_with_multiprocessing():
    child = multiprocessing.get_context("spawn").Process(target=print)
    child.start()
    child.join()


@pytest.mark.processes
def test_marked_and_starts_a_subprocess():
    subprocess.run([sys.executable, "-c", "pass"], check=True)
"""

INNER_SETTINGS = """
[pytest]
asyncio_default_fixture_loop_scope = function
markers = processes: starts processes
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INNER_SETTINGS)
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


def test_the_fast_selection_leaves_out_tests_using_process_fixtures(
    inner: pytest.Pytester,
) -> None:
    result = inner.runpytest_inprocess(
        "-p", "tests.process_guard", "-p", "no:cacheprovider", "-m", "not processes", "-v"
    )
    result.stdout.no_fnmatch_line("*test_uses_a_process_fixture*")
    result.stdout.no_fnmatch_line("*test_marked_and_starts_a_subprocess*")
    result.stdout.fnmatch_lines(["*test_pure PASSED*"])


def test_an_unmarked_test_that_starts_a_process_fails_naming_the_marker(
    inner: pytest.Pytester,
) -> None:
    result = inner.runpytest_inprocess("-p", "tests.process_guard", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=3)
    for test, how in [
        ("test_starts_a_subprocess", "Popen.__init__"),
        ("test_forks", "os.fork"),
        ("test_spawns_with_multiprocessing", "multiprocessing.util.spawnv_passfds"),
    ]:
        result.stdout.fnmatch_lines(
            [f"*test_inner.py::{test} started a process ({how}) but is not marked 'processes'*"]
        )
