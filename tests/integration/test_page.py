"""The live page at `/`, end to end in headless Chromium over the real service.

The page is driven like a person would drive it (mint a token, type strategies,
press Start, press Cancel); what it shows is then checked against the REST API.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright, expect

from tests.integration.client import TERMINAL, token_for

pytestmark = pytest.mark.processes

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
USER = "page-user"
WORKERS = 2
VIEWPORT = {"width": 1280, "height": 900}
# A common phone width: the page must work without sideways scrolling.
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Two diagnostic sleeps keep the scan running long enough to watch (and to poll
# several times); three real strategies fill the table with real opportunities.
STRATEGIES = ("sleep_500ms", "sleep_2s", "trend_momentum", "mean_reversion", "breakout")
# The scan above takes about 2 s; the rest is headroom for a loaded machine.
TERMINAL_TIMEOUT_MS = 60_000
UI_TIMEOUT_MS = 10_000
# Rows of the opportunities table compared one by one with the API.
ROWS_COMPARED = 5
# Table columns holding a number in `data-value`, and the API field it shows.
NUMBER_COLUMNS = {
    4: "expected_return",
    5: "confidence",
    6: "risk_reward",
    7: "entry",
    8: "stop",
    9: "target",
}
# What the page calls each status (web/static/js/render.js, STATUS_TEXT).
STATUS_TEXT = {
    "queued": "Queued",
    "running": "Running",
    "completed": "Completed",
    "partial": "Partial",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "pending": "Pending",
    "timed_out": "Timed out",
}
TERMINAL_TEXT = re.compile("^(Completed|Partial|Failed|Cancelled)$")
# Far longer than the cancel test needs to press Cancel.
SLOW_MARKET_DATA_MS = 30_000
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
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@dataclass
class Traffic:
    """What the page sent and received, seen from the browser."""

    socket_frames: list[tuple[int, str]] = field(default_factory=list)  # (version, status)
    polls: list[int] = field(default_factory=list)  # statuses of GET /api/v1/scans/{id}
    conditional_polls: int = 0

    def watch(self, page: Page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self.on_frame))
        page.on("response", self.on_response)

    def on_frame(self, payload: str | bytes) -> None:
        snapshot = json.loads(payload)
        self.socket_frames.append((snapshot["version"], snapshot["status"]))

    def on_response(self, response: Any) -> None:
        if re.search(r"/api/v1/scans/[0-9a-f]{32}$", response.url) and (
            response.request.method == "GET"
        ):
            self.polls.append(response.status)
            if "if-none-match" in response.request.headers:
                self.conditional_polls += 1


async def api_get(base_url: str, path: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token_for(USER)}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}{path}", headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()  # type: ignore[no-any-return]


async def mint_on_page(page: Page) -> None:
    await page.fill("#mint-user", USER)
    await page.click("#mint-button")
    await expect(page.locator("#identity")).to_contain_text(f"Signed in as {USER}")


async def start_on_page(page: Page, strategies: tuple[str, ...]) -> None:
    await page.fill("#strategies", ", ".join(strategies))
    await page.click("#start-button")
    await expect(page.locator("#scan")).to_be_visible(timeout=UI_TIMEOUT_MS)


def sort_key(opportunity: dict[str, Any]) -> tuple[float, float, str, str]:
    """The page's order (render.js, byExpectedReturn)."""
    return (
        -opportunity["expected_return"],
        -opportunity["confidence"],
        opportunity["symbol"],
        opportunity["strategy"],
    )


async def terminal_snapshot(page: Page, base_url: str) -> dict[str, Any]:
    """Wait for the page to show a terminal state; return the API's snapshot then."""
    await expect(page.locator("#scan-status")).to_have_text(
        TERMINAL_TEXT, timeout=TERMINAL_TIMEOUT_MS
    )
    scan_id = await page.locator("#scan-id").text_content()
    snapshot = await api_get(base_url, f"/api/v1/scans/{scan_id}")
    # The page fetches the results once it has the terminal snapshot.
    await expect(page.locator("#results")).to_have_attribute(
        "data-version", str(snapshot["version"]), timeout=UI_TIMEOUT_MS
    )
    return snapshot


async def assert_page_matches_api(page: Page, base_url: str, snapshot: dict[str, Any]) -> None:
    progress = snapshot["progress"]
    expected_text = {
        "#scan-status": STATUS_TEXT[snapshot["status"]],
        "#scan-version": str(snapshot["version"]),
        "#done-count": str(progress["strategies_completed"]),
        "#total-count": str(progress["total_strategies"]),
        "#found-count": str(progress["opportunities_found_so_far"]),
        "#percentage": f"{progress['percentage']:g} %",
    }
    for selector, text in expected_text.items():
        await expect(page.locator(selector)).to_have_text(text)
    for strategy in snapshot["strategies"]:
        row = page.locator(f'#strategy-list [data-strategy="{strategy["name"]}"]')
        await expect(row).to_have_attribute("data-status", strategy["status"])
        await expect(row.locator(".strategy-status")).to_have_text(STATUS_TEXT[strategy["status"]])
        await expect(row.locator(".strategy-found")).to_have_text(
            f"{strategy['opportunities']} found"
        )
    await expect(page.locator("#strategy-list > li")).to_have_count(len(snapshot["strategies"]))
    await assert_table_matches_api(page, base_url, snapshot)


async def assert_table_matches_api(page: Page, base_url: str, snapshot: dict[str, Any]) -> None:
    results = await api_get(base_url, f"/api/v1/scans/{snapshot['scan_id']}/results")
    opportunities = sorted(results["opportunities"], key=sort_key)
    assert len(opportunities) == snapshot["progress"]["opportunities_found_so_far"]
    await expect(page.locator("#results-count")).to_have_text(str(len(opportunities)))
    rows = page.locator("#results-body > tr")
    await expect(rows).to_have_count(len(opportunities))
    for index, expected in enumerate(opportunities[:ROWS_COMPARED]):
        cells = rows.nth(index).locator("td")
        await expect(cells.nth(0)).to_have_text(str(index + 1))
        await expect(cells.nth(1)).to_have_text(expected["symbol"])
        await expect(cells.nth(2)).to_have_text(expected["side"])
        await expect(cells.nth(3).locator(".idea-strategy")).to_have_text(expected["strategy"])
        await expect(cells.nth(3).locator(".idea-why")).to_have_text(expected["rationale"])
        await expect(cells.nth(4)).to_have_text(f"{expected['expected_return'] * 100:.2f} %")
        # The raw numbers behind the formatted cells are the API's, exactly.
        for column, name in NUMBER_COLUMNS.items():
            raw = await cells.nth(column).get_attribute("data-value")
            assert raw is not None and float(raw) == expected[name], (index, name, raw)


async def assert_fits(page: Page, viewport: dict[str, int]) -> None:
    """At this size nothing but the opportunities table (its own scroll box) is wider
    than the screen."""
    await page.set_viewport_size(viewport)  # type: ignore[arg-type]
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a {viewport['width']} px screen"


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # Animations disabled: bars are shown at their final width, not mid-transition.
    await page.screenshot(
        path=str(ARTIFACTS / f"{name}.png"), full_page=True, animations="disabled"
    )


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
    await expect(page.locator("#transport")).to_have_attribute("data-mode", "done")
    await expect(page.locator("#cancel-button")).to_be_disabled()
    await screenshot(page, "page-completed")
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


async def start_on_page_expecting_error(page: Page, strategies: tuple[str, ...]) -> None:
    await page.fill("#strategies", ", ".join(strategies))
    await page.click("#start-button")
    await expect(page.locator("#alert")).to_be_visible(timeout=UI_TIMEOUT_MS)


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


async def test_page_resumes_the_scan_in_its_address_after_a_reload(start_service, page) -> None:  # type: ignore[no-untyped-def]
    service = start_service(workers=WORKERS, DEV_MODE="1")
    await page.goto(service.base_url)
    await mint_on_page(page)
    await start_on_page(page, STRATEGIES)
    scan_id = await page.locator("#scan-id").text_content()
    await page.reload()
    await expect(page.locator("#scan-id")).to_have_text(scan_id or "", timeout=UI_TIMEOUT_MS)
    snapshot = await terminal_snapshot(page, service.base_url)
    await assert_page_matches_api(page, service.base_url, snapshot)
