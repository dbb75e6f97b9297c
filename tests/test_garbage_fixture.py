"""The suite-wide garbage collection in teardown (tests/conftest.py): a test that leaves
a socket open in a reference cycle fails at its own teardown, not in whichever later
test the collector happens to run in (CI once failed an innocent test that way)."""

from __future__ import annotations

import gc

import pytest

pytest_plugins = ("pytester",)

LEAKING_TESTS = """
import gc
import socket

from tests.conftest import collect_garbage_in_teardown  # the fixture under test


def test_leaves_a_socket_in_a_cycle():
    gc.disable()  # no collection during the test: only the fixture's can find it
    leaked = [socket.socket()]
    leaked.append(leaked)  # reachable only through itself: freed by the collector alone


def test_innocent():
    gc.enable()
"""


# The suite's own warning policy (pyproject.toml), in the inner run's rootdir.
INNER_SETTINGS = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def test_a_leaked_socket_fails_the_test_that_leaked_it(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_SETTINGS)
    pytester.makepyfile(test_leaks=LEAKING_TESTS)
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    finally:
        gc.enable()  # the inner run shares this process: never leave the collector off
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaves_a_socket_in_a_cycle*"])
    result.stdout.fnmatch_lines(["*ResourceWarning: unclosed <socket.socket*"])
