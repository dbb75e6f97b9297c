"""Schemathesis fuzzes the live service from its own OpenAPI document: every
check it has (stateful links included), zero failures, and no 5xx for any input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.client import token_for_admin

pytestmark = pytest.mark.processes

# Cases per operation and phase: enough to cover every status code path while
# keeping the whole run under a minute on two cores.
MAX_EXAMPLES = 30
# Deleting cancels a scan but keeps it readable until its retention ends (the
# contract), which schemathesis' use-after-free check reads as a bug.
EXCLUDED_CHECKS = "use_after_free"
# An HTTP fuzzer cannot speak websocket: a valid handshake would hold its
# connection for the scan's life. The feed has tests of its own
# (tests/web/test_websocket.py, tests/integration/test_feed_cross_worker.py).
WEBSOCKET_OPERATION = "followScan"
# Lines of schemathesis' report quoted in a failure (its failures and summary).
REPORT_TAIL_LINES = 80


def schemathesis(base_url: str, report_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token_for_admin('fuzzer')}",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--exclude-operation-id",
            WEBSOCKET_OPERATION,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "1",
            # One thread: CPython 3.11.7's ast.parse is not thread-safe (gh-106905, "AST
            # constructor recursion depth mismatch"), and hypothesis parses strategy lambdas
            # with it, so two workers once crashed the fuzzer with every case passing.
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_fuzzing_finds_no_failure(start_service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=2, DEV_MODE="1")
    result = schemathesis(service.base_url, tmp_path)
    lines = result.stdout.splitlines()
    summary = [lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if line == "Test cases:"]
    print(f"\nschemathesis: {summary}")
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    # The report's end says what failed: kept in the failure itself, since pytest keeps
    # only its last few runs' temporary directories.
    report_end = "\n".join((result.stdout + result.stderr).splitlines()[-REPORT_TAIL_LINES:])
    assert result.returncode == 0, f"schemathesis failed:\n{report_end}"
    server_errors = [
        line for line in service.log_lines("http_request") if int(line["status"]) >= 500
    ]
    assert server_errors == []
