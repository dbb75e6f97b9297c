"""The live page at `/`, end to end in headless Chromium over the real service.

The page is driven like a person would drive it (mint a token, type strategies,
press Start, press Cancel); what it shows is then checked against the REST API.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright, expect

from tests.integration.client import TERMINAL
from tests.integration.page_checks import (
    Handshakes,
    WireBytes,
    axe_violations,
    chart_read_back,
    seed_evaluations,
    tab_to,
    token_places,
    warm_evidence,
)
from tests.integration.page_driver import (
    ARTIFACTS,
    ROWS_COMPARED,
    TERMINAL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    USER,
    Traffic,
    api_get,
    assert_fits,
    assert_page_matches_api,
    mint_on_page,
    screenshot,
    start_on_page,
    start_on_page_expecting_error,
    terminal_snapshot,
)

pytestmark = pytest.mark.processes

CHROMIUM = Path("/usr/bin/chromium")
WORKERS = 2
VIEWPORT = {"width": 1280, "height": 900}
# A common phone width: the page must work without sideways scrolling.
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Two diagnostic sleeps keep the scan running long enough to watch (and to poll
# several times); three real strategies fill the table with real opportunities: the
# ones GOLDEN (tests/strategies/test_golden_scan.py) pins at the last bar of the
# committed seed's synthetic year, where nothing is planted, so that outcome is the
# seed's (8 rows with the sleeps' 2 markers), not a design.
STRATEGIES = ("sleep_500ms", "sleep_2s", "trend_momentum", "mean_reversion", "grid")
# Far longer than the cancel test needs to press Cancel.
SLOW_MARKET_DATA_MS = 30_000
# Shorter than `sleep_2s`, longer than `sleep_100ms`: a scan of both ends partial.
SHORT_DEADLINE_S = 1
# A websocket close code that is not a normal close: the page must fall back.
ABNORMAL_CLOSE = 1011


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; a missing browser fails the test, it never skips it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get install -y chromium`; `make test` does it when run as root)"
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium))
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh page; its console and its last state are kept in test-artifacts/
    whatever the outcome, so a failure can be read after the fact."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: console.append(
            f"{message.type}: {message.text} ({message.location.get('url', '')})"
        ),
    )
    yield page
    name = "last-" + re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    await screenshot(page, name)
    (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console + errors) + "\n")
    await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


async def test_page_follows_a_scan_live_and_shows_what_the_api_says(start_service, page) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WORKERS, DEV_MODE="1")
    traffic = Traffic()
    traffic.watch(page)
    await page.goto(service.base_url)
    await expect(page.locator("#strategy-choices .chip").first).to_be_visible()
    await mint_on_page(page)

    # An unknown name: a 422 that names the valid ones, offered as choices.
    await start_on_page_expecting_error(page, ("sleep_500ms", "no_such_strategy"))
    await expect(page.locator("#alert")).to_have_attribute("data-status", "422")
    await expect(page.locator("#alert-message")).to_contain_text("no_such_strategy")
    await expect(page.locator('#alert-choices [data-name="trend_momentum"]')).to_be_visible()
    await screenshot(page, "page-invalid-strategy")

    await start_on_page(page, STRATEGIES)
    await expect(page.locator("#alert")).to_be_hidden()
    snapshot = await terminal_snapshot(page, service.base_url)
    assert snapshot["status"] == "completed"
    assert snapshot["progress"]["opportunities_found_so_far"] > ROWS_COMPARED
    await assert_page_matches_api(page, service.base_url, snapshot)
    # The service runs on the bundled data: the page says plainly it is synthetic.
    await expect(page.locator("#synthetic-notice")).to_be_visible()
    await expect(page.locator("#synthetic-notice")).to_contain_text("Synthetic market data")
    await expect(page.locator("#transport")).to_have_attribute("data-mode", "done")
    await expect(page.locator("#cancel-button")).to_be_disabled()
    await screenshot(page, "page-completed")
    await page.emulate_media(color_scheme="dark")
    await screenshot(page, "page-completed-dark")
    await page.emulate_media(color_scheme="light")
    await assert_fits(page, PHONE_VIEWPORT)
    await screenshot(page, "page-completed-phone")

    # Live over the socket: a running state first, then changes in version order,
    # ending with the terminal snapshot; no polling at all.
    frames = traffic.socket_frames
    versions = [version for version, _status in frames]
    assert len(frames) >= 2, frames
    assert frames[0][1] not in TERMINAL, frames
    assert frames[-1] == (snapshot["version"], snapshot["status"]), frames
    assert versions == sorted(set(versions)), frames
    assert traffic.polls == [], traffic.polls


async def refuse(ws: WebSocketRoute) -> None:
    """The feed is unreachable: the socket closes before any message."""
    await ws.close(code=ABNORMAL_CLOSE, reason="test: feed unavailable")


def drop_after_first_message(forwarded: list[str | bytes]):  # type: ignore[no-untyped-def]
    """The feed works, then the connection drops mid-scan."""

    async def handler(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        async def on_server_message(message: str | bytes) -> None:
            if forwarded:
                return
            forwarded.append(message)
            ws.send(message)
            await ws.close(code=ABNORMAL_CLOSE, reason="test: connection dropped")
            await server.close()

        server.on_message(on_server_message)

    return handler


@pytest.mark.parametrize("failure", ["refused", "dropped"])
async def test_page_falls_back_to_polling_when_the_websocket_fails(  # type: ignore[no-untyped-def]
    start_service, page, failure
) -> None:
    service = start_service(workers=WORKERS, DEV_MODE="1")
    forwarded: list[str | bytes] = []
    handler = refuse if failure == "refused" else drop_after_first_message(forwarded)
    await page.route_web_socket(re.compile(r"/api/v1/scans/[0-9a-f]{32}/ws$"), handler)
    traffic = Traffic()
    traffic.watch(page)
    await page.goto(service.base_url)
    await mint_on_page(page)
    await start_on_page(page, STRATEGIES)
    await expect(page.locator("#transport")).to_have_attribute(
        "data-mode", "polling", timeout=UI_TIMEOUT_MS
    )
    snapshot = await terminal_snapshot(page, service.base_url)
    await assert_page_matches_api(page, service.base_url, snapshot)
    await expect(page.locator("#transport")).to_have_attribute("data-mode", "done")
    if failure == "dropped":
        assert len(forwarded) == 1, "the real feed never answered through the route"
    # Polled with If-None-Match, and unchanged snapshots came back as 304s.
    assert 304 in traffic.polls, traffic.polls
    assert traffic.conditional_polls >= traffic.polls.count(304) > 0
    await screenshot(page, f"page-polling-{failure}")


async def test_page_shows_503_while_polling_and_recovers(start_service, page) -> None:  # type: ignore[no-untyped-def]
    """Redis unavailable is answered 503 with Retry-After by the real service; here
    the browser sees that answer for two polls, then the service again."""
    service = start_service(workers=WORKERS, DEV_MODE="1")
    await page.route_web_socket(re.compile(r"/ws$"), refuse)
    unavailable = {"left": 2}

    async def fail_twice(route: Any) -> None:
        if route.request.method == "GET" and unavailable["left"] > 0:
            unavailable["left"] -= 1
            await route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body='{"error":{"code":"redis_unavailable",'
                '"message":"Redis is unavailable; retry shortly"}}',
            )
        else:
            await route.fallback()

    await page.route(re.compile(r"/api/v1/scans/[0-9a-f]{32}$"), fail_twice)
    await page.goto(service.base_url)
    await mint_on_page(page)
    await start_on_page(page, STRATEGIES)
    await expect(page.locator("#alert")).to_have_attribute("data-status", "503")
    await expect(page.locator("#alert-title")).to_have_text(
        "The service is temporarily unavailable"
    )
    await expect(page.locator("#alert-message")).to_contain_text("Retrying in 1 s")
    snapshot = await terminal_snapshot(page, service.base_url)
    await expect(page.locator("#alert")).to_be_hidden()
    await assert_page_matches_api(page, service.base_url, snapshot)


async def test_page_shows_503_when_redis_is_down_and_works_once_it_is_back(  # type: ignore[no-untyped-def]
    start_service, redis_server, page
) -> None:
    """A real outage: the service's redis-server stopped (its append-only file kept)."""
    service = start_service(workers=WORKERS, DEV_MODE="1")
    await page.goto(service.base_url)
    await mint_on_page(page)
    redis_server.stop()
    await start_on_page_expecting_error(page, STRATEGIES)
    await expect(page.locator("#alert")).to_have_attribute("data-status", "503")
    await expect(page.locator("#alert-title")).to_have_text(
        "The service is temporarily unavailable"
    )
    # The page does not resend a start by itself: it says when to try again.
    await expect(page.locator("#alert-message")).to_contain_text("Try again in")
    redis_server.start()
    await start_on_page(page, STRATEGIES)
    await expect(page.locator("#alert")).to_be_hidden()
    snapshot = await terminal_snapshot(page, service.base_url)
    await assert_page_matches_api(page, service.base_url, snapshot)


async def test_page_cancels_a_running_scan(start_service, page) -> None:  # type: ignore[no-untyped-def]
    # Every strategy waits this long for market data, so the scan is surely
    # still running when the page cancels it.
    service = start_service(
        workers=WORKERS, DEV_MODE="1", MARKET_DATA_LATENCY_MS=str(SLOW_MARKET_DATA_MS)
    )
    await page.goto(service.base_url)

    # A token the service does not accept: a clear 401, not a silent failure.
    await page.fill("#token", "not-a-token")
    await page.click("#token-form button[type=submit]")
    await start_on_page_expecting_error(page, ("sleep_2s",))
    await expect(page.locator("#alert")).to_have_attribute("data-status", "401")
    await expect(page.locator("#alert-title")).to_have_text("Your token was not accepted")

    await mint_on_page(page)
    await start_on_page(page, ("sleep_2s", "sleep_500ms", "trend_momentum"))
    await expect(page.locator('[data-strategy="sleep_2s"]')).to_have_attribute(
        "data-status", "running", timeout=TERMINAL_TIMEOUT_MS
    )
    # Starting again while it runs follows the same scan (the API answers 200 with it).
    scan_id = await page.locator("#scan-id").text_content()
    await page.click("#start-button")
    await expect(page.locator("#alert-title")).to_have_text("You already have a scan running")
    await expect(page.locator("#alert")).to_have_attribute("data-kind", "info")
    await expect(page.locator("#scan-id")).to_have_text(scan_id or "")
    await page.click("#cancel-button")
    snapshot = await terminal_snapshot(page, service.base_url)
    assert snapshot["status"] == "cancelled"
    await assert_page_matches_api(page, service.base_url, snapshot)
    for name in ("sleep_2s", "sleep_500ms", "trend_momentum"):
        await expect(page.locator(f'[data-strategy="{name}"]')).to_have_attribute(
            "data-status", "cancelled"
        )
    await expect(page.locator("#status-line")).to_contain_text(
        "Cancelled: 0 of 3 strategies had finished"
    )
    await screenshot(page, "page-cancelled")


async def test_page_shows_failed_and_partial_scans_and_why(start_service, page) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WORKERS, DEV_MODE="1", SCAN_DEADLINE_S=str(SHORT_DEADLINE_S))
    await page.goto(service.base_url)
    await mint_on_page(page)

    # Nothing could run: `explode` raises, `hang` runs past its own timeout.
    await start_on_page(page, ("explode", "hang"))
    snapshot = await terminal_snapshot(page, service.base_url)
    assert snapshot["status"] == "failed"
    await assert_page_matches_api(page, service.base_url, snapshot)
    for name in ("explode", "hang"):
        await expect(page.locator(f'[data-strategy="{name}"] .strategy-error')).to_be_visible()
    await expect(page.locator("#results-empty")).to_have_text("This scan found no opportunities.")
    await screenshot(page, "page-failed")

    # The scan's deadline comes before `sleep_2s` is done: partial, with what came in.
    await start_on_page(page, ("sleep_2s", "sleep_100ms"))
    snapshot = await terminal_snapshot(page, service.base_url)
    assert snapshot["status"] == "partial"
    await assert_page_matches_api(page, service.base_url, snapshot)
    await expect(page.locator('[data-strategy="sleep_2s"]')).to_have_attribute(
        "data-status", "timed_out"
    )
    await expect(page.locator("#results-meta")).to_contain_text("final (partial)")
    await expect(page.locator("#status-line")).to_have_text(
        "Partial: the deadline came first; 1 of 2 strategies finished in time, 1 opportunity."
    )


async def test_page_resumes_the_scan_in_its_address_after_a_reload(start_service, page) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WORKERS, DEV_MODE="1")
    await page.goto(service.base_url)
    await mint_on_page(page)
    scan_id = await start_on_page(page, STRATEGIES)
    await page.reload()
    await expect(page.locator("#scan-id")).to_have_text(scan_id, timeout=UI_TIMEOUT_MS)
    snapshot = await terminal_snapshot(page, service.base_url)
    await assert_page_matches_api(page, service.base_url, snapshot)


# Real strategies that fire on the bundled data's last bar (GOLDEN), with price levels.
# Among them a carry (two legs: the spot and its perpetual), a grid (two rows of one
# idea) and a sale of holdings against mean_reversion's long (a conflict).
CHART_STRATEGIES = ("trend_momentum", "mean_reversion", "grid", "funding_carry", "risk_management")
# The page, the chart library included, over the wire: the budget it must stay under.
PAGE_BYTES_MAX = 300_000
# Two widths the page must work at: a phone and a desktop screen.
PHONE_WIDTH = {"width": 390, "height": 844}
DESKTOP_WIDTH = {"width": 1440, "height": 900}
CHART_LIBRARY = "/static/vendor/lightweight-charts-5.3.0/"


def seconds_of(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


async def test_page_charts_an_opportunity_reopens_a_past_scan_and_exports_csv(  # type: ignore[no-untyped-def]
    start_service, redis_server, page
) -> None:
    # Evidence stored beforehand (a constructed evaluation per strategy) and read by
    # the one worker: the rows carry it, and the chart's track record shows it.
    await seed_evaluations(redis_server.url, CHART_STRATEGIES)
    service = start_service(workers=1, DEV_MODE="1", EVIDENCE_COMPUTE="0")
    await warm_evidence(service.base_url, "warm-up-user", list(CHART_STRATEGIES))
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    wire = WireBytes()
    wire.watch(page)
    handshakes = Handshakes()
    await handshakes.watch(page.context, page)
    await page.goto(service.base_url)
    await page.wait_for_load_state("networkidle")
    assert any(CHART_LIBRARY in url for url in wire.received), sorted(wire.received)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-bytes.json").write_text(
        json.dumps({"total": wire.total(), "by_url": wire.received}, indent=1)
    )
    assert wire.total() < PAGE_BYTES_MAX, wire.received

    # Keyboard alone: mint a token and start a scan.
    await tab_to(page, "#mint-user")
    await page.keyboard.press("Control+A")
    await page.keyboard.type(USER)
    await page.keyboard.press("Enter")
    await expect(page.locator("#identity")).to_contain_text(f"Signed in as {USER}")
    await tab_to(page, "#strategies")
    await page.keyboard.type(", ".join(CHART_STRATEGIES))
    await page.keyboard.press("Enter")
    first = await terminal_snapshot(page, service.base_url)
    assert first["status"] == "completed"
    await assert_page_matches_api(page, service.base_url, first)

    # Open the chart of an idea with a stop and a target, by keyboard.
    results = await api_get(service.base_url, f"/api/v1/scans/{first['scan_id']}/results")
    shown = results["opportunities"]  # the page keeps the API's order
    row, idea = next(
        (index, o)
        for index, o in enumerate(shown)
        if o["stop"] is not None and o["target"] is not None
    )
    button = f"#results-body tr:nth-child({row + 1}) .chart-button"
    await tab_to(page, button)
    await page.keyboard.press("Enter")
    await expect(page.locator("#chart-panel")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#chart-title")).to_be_focused()
    chart = await chart_read_back(page, idea["symbol"])
    await assert_track_record_shown(page, service.base_url, idea["strategy"])
    assert chart["canvases"] > 0
    lines = {line["id"]: line["price"] for line in chart["lines"]}
    assert {k: lines[k] for k in ("entry", "stop", "target")} == {
        k: idea[k] for k in ("entry", "stop", "target")
    }
    assert chart["markers"] == [
        {"time": seconds_of(idea["as_of"]), "text": f"signal: {idea['side']}"}
    ]
    assert chart["last"] <= seconds_of(first["market_data_as_of"])  # never newer than the scan's
    await assert_fits(page, PHONE_WIDTH)
    await screenshot(page, "page-chart-390")
    await assert_fits(page, DESKTOP_WIDTH)
    await screenshot(page, "page-chart-1440")
    await page.emulate_media(color_scheme="dark")
    await screenshot(page, "page-chart-1440-dark")
    await page.emulate_media(color_scheme="light")
    violations = await axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    assert console_errors == []  # the chart runs under the page's CSP as it is
    await page.keyboard.press("Escape")
    await expect(page.locator("#chart-panel")).to_be_hidden()
    await expect(page.locator(button)).to_be_focused()

    # The results download as CSV.
    async with page.expect_download() as download_info:
        await page.click("#csv-button")
    download = await download_info.value
    assert download.suggested_filename == f"scan-{first['scan_id']}.csv"
    saved = await download.path()
    text = await asyncio.to_thread(saved.read_text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sorted((r["strategy"], r["symbol"], r["side"]) for r in rows) == sorted(
        (o["strategy"], o["symbol"], o["side"]) for o in results["opportunities"]
    )

    await assert_ideas_are_linked(page, shown)
    await assert_a_multi_leg_chart_has_each_leg(page, shown)

    # A second scan, then the first reopened from the history list.
    second_id = await start_on_page(page, ("sleep_100ms",))
    await terminal_snapshot(page, service.base_url)
    history = page.locator("#history-list > li")
    await expect(history.first).to_have_attribute("data-scan-id", second_id)
    await page.click(f'#history-list [data-scan-id="{first["scan_id"]}"] .history-open')
    await expect(page.locator("#scan-id")).to_have_text(first["scan_id"])
    reopened = await terminal_snapshot(page, service.base_url)
    await assert_page_matches_api(page, service.base_url, reopened)
    violations = await axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)

    # The token lives in this tab's session storage only, and rode the websockets'
    # subprotocol list, never a URL.
    token = await page.evaluate("sessionStorage.getItem('oppscan.token')")
    assert await token_places(page, page.context, token) == {
        "session_storage": True,
        "local_storage": False,
        "cookies": False,
    }
    urls = [h["url"] for h in handshakes.requests if "url" in h]
    protocols = [
        h["headers"].get("Sec-WebSocket-Protocol") for h in handshakes.requests if "headers" in h
    ]
    assert urls and all("token" not in url for url in urls), urls
    assert protocols and set(protocols) == {f"bearer, {token}"}, protocols


async def test_keyboard_alone_starts_and_cancels_a_scan(start_service, page) -> None:  # type: ignore[no-untyped-def]
    service = start_service(
        workers=WORKERS, DEV_MODE="1", MARKET_DATA_LATENCY_MS=str(SLOW_MARKET_DATA_MS)
    )
    await page.goto(service.base_url)
    await tab_to(page, "#mint-user")
    await page.keyboard.press("Control+A")
    await page.keyboard.type(USER)
    await tab_to(page, "#mint-button")
    await page.keyboard.press("Enter")
    await expect(page.locator("#identity")).to_contain_text(f"Signed in as {USER}")
    await tab_to(page, "#strategies")
    await page.keyboard.type("sleep_2s, trend_momentum")
    await tab_to(page, "#start-button")
    await page.keyboard.press("Enter")
    await expect(page.locator('[data-strategy="sleep_2s"]')).to_have_attribute(
        "data-status", "running", timeout=TERMINAL_TIMEOUT_MS
    )
    await tab_to(page, "#cancel-button")
    await page.keyboard.press("Enter")
    snapshot = await terminal_snapshot(page, service.base_url)
    assert snapshot["status"] == "cancelled"


async def assert_ideas_are_linked(page: Page, shown: list[dict[str, Any]]) -> None:
    """Each row names its conflicts and its idea's other rows by row number, and lists
    its legs."""
    number = {o["opportunity_id"]: index for index, o in enumerate(shown, 1)}
    rows = page.locator("#results-body > tr")
    conflicted = [o for o in shown if o["conflicts"]]
    assert conflicted, "the scan's strategies disagree on a symbol"
    for index, o in enumerate(shown, 1):
        row = rows.nth(index - 1)
        links = row.locator(".idea-conflict .row-link")
        expected = [f"#{number[other]}" for other in o["conflicts"]]
        await expect(links).to_have_text(expected)
        await expect(row.locator(".legs > li")).to_have_count(len(o["legs"]))
        same = o["group_id"]
        group = [
            f"#{n}" for n, other in enumerate(shown, 1)
            if same and other["group_id"] == same and n != index
        ]  # fmt: skip
        await expect(row.locator(".idea-group .row-link")).to_have_text(group)
    # A link moves the focus to the row it names.
    first = conflicted[0]
    await (
        rows.nth(number[first["opportunity_id"]] - 1)
        .locator(".idea-conflict .row-link")
        .first.click()
    )
    target = number[first["conflicts"][0]]
    await expect(rows.nth(target - 1).locator(".chart-button")).to_be_focused()


async def assert_a_multi_leg_chart_has_each_leg(page: Page, shown: list[dict[str, Any]]) -> None:
    """A carry's chart: one chart per symbol, its legs' orders as price lines."""
    index, carry = next(
        (i, o) for i, o in enumerate(shown) if len({leg["symbol"] for leg in o["legs"]}) == 2
    )
    await page.locator("#results-body > tr").nth(index).locator(".chart-button").click()
    await expect(page.locator("#chart-panel")).to_have_attribute("data-ready", "true")
    figures = page.locator("#chart-legs figure")
    await expect(figures).to_have_count(2)
    for leg in carry["legs"]:
        chart = await chart_read_back(page, leg["symbol"])
        prices = {line["price"] for line in chart["lines"]}
        assert leg["price"] in prices or leg["price"] == carry["entry"], (leg, chart["lines"])
    own = await chart_read_back(page, carry["symbol"])
    assert [line["id"] for line in own["lines"]] == ["entry"]  # no stop or target: a carry
    await page.click("#chart-close")
    await expect(page.locator("#chart-panel")).to_be_hidden()


async def assert_track_record_shown(page: Page, base_url: str, strategy: str) -> None:
    """Under the chart: the strategy's cumulative-R curve and its calibration deciles,
    as the evaluation route serves them."""
    track = page.locator("#track")
    await expect(track).to_have_attribute("data-ready", "true")
    record = await api_get(
        page.url.split("/#")[0].rstrip("/"), f"/api/v1/strategies/{strategy}/evaluation"
    )
    assert record["status"] == "ready"
    await expect(track).to_have_attribute("data-status", "ready")
    await expect(page.locator("#track-summary")).to_contain_text(
        f"{record['overall']['trades']} trades"
    )
    curve = await page.locator("#track-curve .track-chart").evaluate(
        "box => box.chartHandle.series.data().at(-1).value"
    )
    assert curve == record["curve"][-1]["r"]
    rows = page.locator("#track-calibration tbody tr")
    await expect(rows).to_have_count(len(record["calibration"]))
    await expect(page.locator("#track-calibration circle")).to_have_count(
        len(record["calibration"])
    )
