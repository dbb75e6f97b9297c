"""The live page at `/`, end to end in headless Chromium over the real service.

The page is driven like a person would drive it (mint a token, type strategies,
press Start, press Cancel); what it shows is then checked against the REST API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright, expect

from tests.integration.client import TERMINAL
from tests.integration.page_driver import (
    ARTIFACTS,
    ROWS_COMPARED,
    TERMINAL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    Traffic,
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
