"""Driving the live page in Chromium and comparing what it shows with the REST API
(the helpers of test_page.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, expect

from strategies.findings import top_reason
from tests.integration.client import token_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
USER = "page-user"
# The scans the tests start take seconds; the rest is headroom for a loaded machine.
TERMINAL_TIMEOUT_MS = 60_000
UI_TIMEOUT_MS = 10_000
# Rows of the opportunities table compared one by one with the API.
ROWS_COMPARED = 5
# Table columns holding a number in `data-value`, and the API field it shows.
NUMBER_COLUMNS = {
    4: "expected_value_pct",
    5: "probability",
    7: "expected_return",
    8: "risk_reward",
    9: "entry",
    10: "stop",
    11: "target",
}
# The track record's column: the evidence's trades and hit rate.
RECORD_COLUMN = 6
# Of those, the ones that are null while a strategy's evidence is not there.
EVIDENCE_COLUMNS = frozenset({"expected_value_pct", "probability"})
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


async def start_on_page(page: Page, strategies: tuple[str, ...]) -> str:
    """Start a new scan from the page; its id, once the page shows it."""
    previous = await page.locator("#scan-id").text_content() or ""
    await page.fill("#strategies", ", ".join(strategies))
    await page.click("#start-button")
    # Until the page shows the new id, everything on it is the previous scan's.
    await expect(page.locator("#scan-id")).not_to_have_text(previous, timeout=UI_TIMEOUT_MS)
    await expect(page.locator("#scan")).to_be_visible()
    return await page.locator("#scan-id").text_content() or ""


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
        skipped = sum(strategy["skipped_counts"].values())
        await expect(row.locator(".strategy-found")).to_have_text(
            f"{strategy['opportunities']} fired / {strategy['evaluated']} evaluated / "
            f"{skipped} skipped"
        )
        reason = top_reason(strategy["skipped_counts"])
        if reason is not None:
            await expect(row.locator(".strategy-reason")).to_contain_text(
                f"{reason} ({strategy['skipped_counts'][reason]})"
            )
        await expect(row.locator(".strategy-error")).to_have_text(strategy["error"] or "")
    await expect(page.locator("#strategy-list > li")).to_have_count(len(snapshot["strategies"]))
    await assert_table_matches_api(page, base_url, snapshot)


async def assert_table_matches_api(page: Page, base_url: str, snapshot: dict[str, Any]) -> None:
    results = await api_get(base_url, f"/api/v1/scans/{snapshot['scan_id']}/results")
    # The page shows them in the API's order (ranked by expected value).
    opportunities = results["opportunities"]
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
        value = expected["expected_value_pct"]
        await expect(cells.nth(4)).to_have_text("—" if value is None else f"{value:.2f} %")
        await expect(cells.nth(7)).to_have_text(f"{expected['expected_return'] * 100:.2f} %")
        await assert_evidence_shown(cells, expected)
        # The raw numbers behind the formatted cells are the API's, exactly.
        for column, name in NUMBER_COLUMNS.items():
            raw = await cells.nth(column).get_attribute("data-value")
            if expected[name] is None and name in EVIDENCE_COLUMNS:
                # No evidence (yet): an empty value, the note saying why on hover.
                assert raw == "", (index, name, raw)
                continue
            if expected[name] is None:  # no such level: a dash, the reason on hover
                assert raw is None, (index, name, raw)
                await expect(cells.nth(column)).to_have_attribute("title", expected["levels_note"])
                continue
            assert raw is not None and float(raw) == expected[name], (index, name, raw)


def evidence_behind(opportunity: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence a row shows: this symbol's when it has trades, else every symbol's."""
    for name in ("evidence", "evidence_all"):
        evidence = opportunity.get(name)
        if evidence and evidence["trades"]:
            return evidence  # type: ignore[no-any-return]
    return None


async def assert_evidence_shown(cells: Any, expected: dict[str, Any]) -> None:
    """Probability with the interval of the hit rate behind it; the track record's
    trades and hit rate; a dash where there is no evidence."""
    evidence = evidence_behind(expected)
    record, probability = cells.nth(RECORD_COLUMN), cells.nth(5)
    if evidence is None:
        await expect(record).to_have_text("—")
        return
    rate = f"{evidence['hit_rate'] * 100:.0f} %"
    await expect(record.locator(".evidence-value")).to_have_text(
        f"{evidence['trades']} trades · {rate}"
    )
    await expect(record.locator(".rate-bar")).to_be_attached()
    if expected["probability"] is not None:
        low, high = (f"{evidence[k] * 100:.0f} %" for k in ("hit_rate_low", "hit_rate_high"))
        await expect(probability.locator(".evidence-interval")).to_have_text(f"95 %: {low}–{high}")


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


async def start_on_page_expecting_error(page: Page, strategies: tuple[str, ...]) -> None:
    await page.fill("#strategies", ", ".join(strategies))
    await page.click("#start-button")
    await expect(page.locator("#alert")).to_be_visible(timeout=UI_TIMEOUT_MS)
