"""The `oppscan` console script against real services: the installed entry point
is run as a user runs it, a subprocess, and what it prints is checked against
the service's own answers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import jwt
import pytest

from coordinator.process.embedded_redis import EmbeddedRedis, free_port
from strategies.catalog import CATALOG
from strategies.findings import SKIP_EXAMPLES_KEPT, SkipCode
from tests.integration.client import ScanClient, token_for
from tests.integration.service import Service
from tests.strategies.test_golden_scan import GOLDEN
from tests.support import TEST_SECRET, eventually
from web.cli import EXIT_CANCELLED, EXIT_FAILED, EXIT_PARTIAL

pytestmark = pytest.mark.processes

OPPSCAN = Path(sys.executable).with_name("oppscan")
# A CLI run that follows a scan of light strategies ends in seconds.
CLI_TIMEOUT_S = 60.0
# A terminal wide enough that no table cell is shortened.
WIDE_COLUMNS = "200"
# A narrow terminal: the results table must still fit, names cut, not wrapped.
NARROW_COLUMNS = 60
# Holds every market-data fetch far longer than any test, so a scan stays running.
STALLED_MARKET_DATA_MS = 600_000
SHORT_DEADLINE_S = 1
# Real strategies next to diagnostic ones: breakout finds nothing on the bundled data,
# the other three find what GOLDEN pins for the committed seed's last bar (the bundled
# year has nothing planted: that they fire there is that seed's outcome, not a design).
REAL_STRATEGIES = ("trend_momentum", "breakout", "mean_reversion", "grid")
FOUND_STRATEGIES = ",".join((*REAL_STRATEGIES, "sleep_100ms", "noop"))
USAGE_EXIT = 2
ERROR_EXIT = 1
MINUTES_15_S = 15 * 60
ACTIVE_SCAN_RETURNED = 200
# They count holdings, or the portfolio as one candidate, not the scan's symbols.
PORTFOLIO_RULES = {"portfolio_optimization", "risk_management", "hedging"}
SWITCHING_PROTOCOLS = 101
FEED_ROUTE = "/api/v1/scans/{scan_id}/ws"


@dataclass
class CliRun:
    code: int
    out: str
    err: str


async def oppscan(*args: str, **env: str) -> CliRun:
    """Run the installed console script, as a user would."""
    assert OPPSCAN.exists(), f"{OPPSCAN} missing: install the package (pip install -e .)"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OPPSCAN_")}
    full_env.update({"COLUMNS": WIDE_COLUMNS, "JWT_SECRET": TEST_SECRET, **env})
    process = await asyncio.create_subprocess_exec(
        str(OPPSCAN),
        *args,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
    assert process.returncode is not None
    return CliRun(process.returncode, out.decode(), err.decode())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for the tests that only start and read their own users' scans."""
    directory = tmp_path_factory.mktemp("cli-service")
    redis = EmbeddedRedis(directory / "redis").start()
    running = Service(redis.url, directory / "service.log", workers=2)
    try:
        yield running.start()
    finally:
        running.stop()
        redis.stop()


async def get_json(base_url: str, path: str, token: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url + path, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        return response.status, await response.json()


async def test_minted_token_is_accepted_and_its_ttl_parsed(service: Service) -> None:
    minted = await oppscan("token", "--user", "cli-alice", "--ttl", "15m")
    assert minted.code == 0, minted.err
    token = minted.out.strip()
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "cli-alice" and "role" not in claims
    assert claims["exp"] - claims["iat"] == MINUTES_15_S
    status, body = await get_json(service.base_url, "/api/v1/scans", token)
    assert status == 200 and body == {"scans": []}
    status, body = await get_json(service.base_url, "/api/v1/admin/leases", token)
    assert status == 403, body


async def test_watch_json_ends_with_the_terminal_snapshot_and_results(service: Service) -> None:
    token = token_for("cli-watcher")
    run = await oppscan(
        "scan", "--strategies", FOUND_STRATEGIES, "--watch", "--json", "--url", service.base_url,
        "--token", token,
    )  # fmt: skip
    assert run.code == 0, run.err
    printed = json.loads(run.out)  # nothing but the JSON document on stdout
    scan_id = printed["scan"]["scan_id"]
    assert printed["scan"]["status"] == "completed"
    assert (200, printed["scan"]) == await get_json(
        service.base_url, f"/api/v1/scans/{scan_id}", token
    )
    assert (200, printed["results"]) == await get_json(
        service.base_url, f"/api/v1/scans/{scan_id}/results", token
    )
    found = {
        (o["strategy"], o["symbol"], o["side"])
        for o in printed["results"]["opportunities"]
        if o["strategy"] in REAL_STRATEGIES
    }
    assert found == {
        (name, symbol, side) for name in REAL_STRATEGIES for symbol, side in GOLDEN[name]
    }
    assert found, "what these strategies find at the committed seed's last bar"

    async def feed_requests() -> list[int]:
        return [
            line["status"] for line in service.log_lines("http_request")
            if line.get("route") == FEED_ROUTE and line.get("scan_id") == scan_id
        ]  # fmt: skip

    # It followed the websocket feed, not the polling fallback (the log line of the
    # socket is written when it closes, so it may trail the command by a moment).
    assert await eventually(feed_requests, what="the feed's request log") == [SWITCHING_PROTOCOLS]


async def test_watch_table_in_the_services_order(service: Service) -> None:
    token = token_for("cli-table")
    run = await oppscan(
        "scan", "--strategies", FOUND_STRATEGIES, "--watch", "--url", service.base_url,
        "--token", token,
    )  # fmt: skip
    assert run.code == 0, run.err
    scan_id = re.search(r"scan ([0-9a-f]{32}) completed", run.out)
    assert scan_id, run.out
    _, results = await get_json(service.base_url, f"/api/v1/scans/{scan_id[1]}/results", token)
    shown = [float(value) for value in re.findall(r"(-?\d+\.\d\d) %", run.out)]
    # The service ranks (by expected value, the default); the table keeps its order.
    expected = [o["expected_return"] * 100 for o in results["opportunities"]]
    assert shown == pytest.approx(expected, abs=0.005)
    assert f"{len(expected)} opportunities" in run.out
    # The live progress went to stderr, one bar per strategy, each finished.
    for strategy in FOUND_STRATEGIES.split(","):
        assert re.search(rf"{strategy}\s.*completed", run.err), run.err


async def test_every_strategy_says_what_it_looked_at(service: Service) -> None:
    """A scan of the fourteen strategies over the bundled data, end to end: each
    strategy's state in the snapshot accounts for every symbol it looked at (fired
    on, or skipped with a reason), and the command prints it per strategy."""
    token = token_for("cli-findings")
    strategies = ",".join(spec.name for spec in CATALOG)
    run = await oppscan(
        "scan", "--strategies", strategies, "--watch", "--json", "--url", service.base_url,
        "--token", token,
    )  # fmt: skip
    assert run.code == 0, run.err
    printed = json.loads(run.out)
    symbols = printed["scan"]["symbols"]
    results = printed["results"]["opportunities"]
    for state in printed["scan"]["strategies"]:
        counts, examples = state["skipped_counts"], state["skipped"]
        assert state["status"] == "completed" and state["evaluated"] >= 1, state
        assert len(examples) <= SKIP_EXAMPLES_KEPT and bool(examples) == bool(counts), state
        assert {skip["code"] for skip in examples} <= set(counts) <= set(SkipCode), state
        if state["name"] in PORTFOLIO_RULES:  # holdings, or the portfolio as one
            continue
        fired = {
            symbol
            for o in results
            if o["strategy"] == state["name"]
            for symbol in [o["symbol"], *(leg["symbol"] for leg in o["legs"])]
        } & set(symbols)  # not a carry's perpetual: the scan did not ask for it
        assert state["evaluated"] == len(symbols), state
        assert sum(counts.values()) + len(fired) == len(symbols), state
    table = await oppscan(
        "scan", "--strategies", strategies, "--watch", "--url", service.base_url,
        "--token", token_for("cli-findings-table"),
    )  # fmt: skip
    assert table.code == 0, table.err
    assert "fired" in table.out and "evaluated" in table.out and "top reason" in table.out
    for state in printed["scan"]["strategies"]:
        shown = sum(state["skipped_counts"].values())
        assert re.search(
            rf"{state['name']}\s+{state['opportunities']}\s+{state['evaluated']}\s+{shown}\s",
            table.out,
        ), (state["name"], table.out)


async def test_scan_whose_strategies_all_fail_exits_nonzero(service: Service) -> None:
    run = await oppscan(
        "scan", "--strategies", "explode", "--watch", "--json", "--url", service.base_url,
        "--token", token_for("cli-explode"),
    )  # fmt: skip
    assert run.code == EXIT_FAILED, (run.code, run.err)
    printed = json.loads(run.out)
    assert printed["scan"]["status"] == "failed"
    assert printed["scan"]["strategies"][0]["status"] == "failed"


async def test_scan_past_its_deadline_exits_partial(start_service) -> None:  # type: ignore[no-untyped-def]
    # Market data stalls past the deadline, so the strategy is still running when it comes.
    late = start_service(
        workers=1,
        SCAN_DEADLINE_S=str(SHORT_DEADLINE_S),
        MARKET_DATA_LATENCY_MS=str(STALLED_MARKET_DATA_MS),
    )
    run = await oppscan(
        "scan", "--strategies", "noop", "--watch", "--json", "--url", late.base_url,
        "--token", token_for("cli-partial"),
    )  # fmt: skip
    printed = json.loads(run.out)
    assert run.code == EXIT_PARTIAL, (run.code, run.err, printed["scan"]["strategies"])
    assert printed["scan"]["status"] == "partial" and printed["results"]["partial"] is True
    assert printed["scan"]["strategies"][0]["status"] == "timed_out"


async def test_http_errors_print_the_servers_message(service: Service) -> None:
    unknown = await oppscan(
        "scan", "--strategies", "no_such_strategy", "--url", service.base_url,
        "--token", token_for("cli-errors"),
    )  # fmt: skip
    assert unknown.code == ERROR_EXIT
    assert "unknown strategies: no_such_strategy" in unknown.err
    assert "422" in unknown.err and "Traceback" not in unknown.err
    forged = await oppscan("scan", "--url", service.base_url, "--token", "not-a-jwt")
    assert forged.code == ERROR_EXIT
    assert "bearer token rejected" in forged.err and "Traceback" not in forged.err
    refused = await oppscan("leases", "--url", service.base_url, "--token", token_for("cli-x"))
    assert refused.code == ERROR_EXIT and "admin role required" in refused.err


async def test_unreachable_service_is_a_message() -> None:
    run = await oppscan("scan", "--url", f"http://127.0.0.1:{free_port()}", "--token", "t")
    assert run.code == ERROR_EXIT
    assert "cannot reach" in run.err and "Traceback" not in run.err


async def test_running_scan_is_listed_and_its_watcher_exits_nonzero_on_cancel(
    start_service,  # type: ignore[no-untyped-def]
) -> None:
    stalled = start_service(workers=2, MARKET_DATA_LATENCY_MS=str(STALLED_MARKET_DATA_MS))
    client = ScanClient(stalled.base_url)
    user = "cli-cancelled"
    try:
        scan_id = (await client.start(user, ["noop"]))["scan_id"]

        async def running() -> bool:
            body = await client.read(user, scan_id)
            return body is not None and body["status"] == "running"

        await eventually(running, what="the scan to be running")
        minted = await oppscan("token", "--user", "cli-ops", "--admin")
        admin = minted.out.strip()
        listed = await oppscan("leases", "--url", stalled.base_url, "--token", admin)
        assert listed.code == 0, listed.err
        row = next(line for line in listed.out.splitlines() if scan_id in line)
        assert user in row and "running" in row, listed.out
        # The watcher follows the user's active scan (a POST returns it), until cancelled.
        watcher = asyncio.ensure_future(
            oppscan("scan", "--watch", "--json", "--url", stalled.base_url,
                    "--token", token_for(user))
        )  # fmt: skip
        await eventually(
            lambda: active_scan_returned(stalled), what="the watcher to be handed the scan"
        )
        async with client.session.delete(
            f"{stalled.base_url}/api/v1/scans/{scan_id}", headers=client.headers(user)
        ) as response:
            assert response.status in (200, 202), await response.text()
        run = await watcher
        assert run.code == EXIT_CANCELLED, (run.code, run.err)
        assert json.loads(run.out)["scan"]["status"] == "cancelled"
    finally:
        await client.close()


async def active_scan_returned(service: Service) -> bool:
    """A POST answered 200: the watcher was handed the user's active scan."""
    return any(
        line.get("method") == "POST" and line.get("route") == "/api/v1/scans"
        and line.get("status") == ACTIVE_SCAN_RETURNED
        for line in service.log_lines("http_request")
    )  # fmt: skip


async def test_results_command_prints_table_json_and_csv(service: Service) -> None:
    token = token_for("cli-results")
    watched = await oppscan(
        "scan", "--strategies", FOUND_STRATEGIES, "--watch", "--json", "--url", service.base_url,
        "--token", token,
    )  # fmt: skip
    assert watched.code == 0, watched.err
    scan_id = json.loads(watched.out)["scan"]["scan_id"]
    _, expected = await get_json(service.base_url, f"/api/v1/scans/{scan_id}/results", token)
    found = expected["opportunities"]
    assert found

    as_json = await oppscan("results", scan_id, "--format", "json", "--url", service.base_url,
                            "--token", token)  # fmt: skip
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out) == expected  # every field, names in full

    as_csv = await oppscan("results", scan_id, "--format", "csv", "--url", service.base_url,
                           "--token", token)  # fmt: skip
    assert as_csv.code == 0, as_csv.err
    rows = list(csv.DictReader(io.StringIO(as_csv.out, newline="")))
    assert [(r["strategy"], r["symbol"]) for r in rows] == [
        (o["strategy"], o["symbol"]) for o in found
    ]

    narrow = await oppscan("results", scan_id, "--url", service.base_url, "--token", token,
                           COLUMNS=str(NARROW_COLUMNS))  # fmt: skip
    assert narrow.code == 0, narrow.err
    lines = narrow.out.splitlines()
    assert max(len(line) for line in lines) <= NARROW_COLUMNS, narrow.out
    # One line per opportunity, numbered in order: nothing wrapped.
    assert [int(m[1]) for line in lines if (m := re.match(r"^(\d+) ", line))] == list(
        range(1, len(found) + 1)
    ), narrow.out

    missing = await oppscan("results", "0" * 32, "--url", service.base_url, "--token", token)
    assert missing.code == ERROR_EXIT and "not found" in missing.err
    bad = await oppscan("results", scan_id, "--format", "xml", "--token", token)
    assert bad.code == USAGE_EXIT
