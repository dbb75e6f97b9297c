"""What the page's browser tests check beyond the scan itself: the chart read back
through lightweight-charts' own API, keyboard-only use, an axe-core audit, the
bytes the page costs and where it keeps its token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, CDPSession, Page, Request, expect
from redis.asyncio import Redis

from coordinator.store import keys
from coordinator.store.codec import msgpack_encoder
from strategies.evidence import compute
from strategies.evidence.calibration import fit
from strategies.evidence.fingerprint import fingerprint
from strategies.evidence.records import Evaluation
from strategies.evidence.summary import evidence_of
from strategies.registry import build_registry
from strategies.sources.bundled import BundledProvider
from tests.integration.client import TERMINAL, ScanClient
from tests.support import eventually, make_settings
from tests.web.test_evaluation_api import TRADE_LIST

AXE = Path(__file__).with_name("vendor") / "axe-core-4.14.1" / "axe.min.js"
# Impacts axe ranks minor, moderate, serious, critical: the last two fail the test.
FAILING_IMPACTS = ("serious", "critical")
# The most Tab presses a control may take to reach: more is a page nobody tabs through.
TAB_PRESSES_MAX = 80
# Scans of a few strategies end in about a second; a handful suffice.
WARM_UP_TIMEOUT_S = 60.0


async def chart_read_back(page: Page, symbol: str) -> dict[str, Any]:
    """The chart of ``symbol`` as lightweight-charts holds it: its price lines, its
    markers and its data's time range, and whether a canvas was drawn."""
    figure = page.locator(f'#chart-legs figure[data-symbol="{symbol}"]')
    await expect(figure.locator("canvas").first).to_be_attached()
    return await figure.locator(".chart").evaluate(  # type: ignore[no-any-return]
        """box => {
            const { series, markers } = box.chartHandle;
            const data = series.data();
            return {
                canvases: box.querySelectorAll("canvas").length,
                lines: series.priceLines().map(line => line.options())
                    .map(o => ({ id: o.id, price: o.price, title: o.title })),
                markers: (markers ? markers.markers() : [])
                    .map(m => ({ time: m.time, text: m.text })),
                first: data[0].time,
                last: data[data.length - 1].time,
                bars: data.length,
            };
        }"""
    )


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus: reachable by keyboard alone."""
    for _ in range(TAB_PRESSES_MAX):
        if await page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached by {TAB_PRESSES_MAX} Tab presses")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. The script
    is evaluated through the debugger protocol, which the page's CSP does not govern."""
    await page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
        }))"""
    )
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


@dataclass
class WireBytes:
    """The bytes the browser received for each request (headers and body)."""

    received: dict[str, int] = field(default_factory=dict)

    def watch(self, page: Page) -> None:
        page.on("requestfinished", self.on_finished)

    async def on_finished(self, request: Request) -> None:
        sizes = await request.sizes()
        self.received[request.url] = (
            self.received.get(request.url, 0)
            + sizes["responseBodySize"]
            + sizes["responseHeadersSize"]
        )

    def total(self) -> int:
        return sum(self.received.values())


@dataclass
class Handshakes:
    """The websocket handshakes the browser sent, headers included (seen through the
    debugger protocol: Playwright's own websocket events carry no headers)."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    async def watch(self, context: BrowserContext, page: Page) -> CDPSession:
        session = await context.new_cdp_session(page)
        await session.send("Network.enable")
        session.on("Network.webSocketCreated", lambda event: self.requests.append(dict(event)))
        session.on("Network.webSocketWillSendHandshakeRequest", self.on_handshake)
        return session

    def on_handshake(self, event: dict[str, Any]) -> None:
        self.requests.append({"headers": event["request"]["headers"]})


async def token_places(page: Page, context: BrowserContext, token: str) -> dict[str, bool]:
    """Where the page keeps ``token``: session storage (allowed), local storage and
    cookies (never)."""
    storage = json.loads(
        await page.evaluate(
            "JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})"
        )
    )
    cookies = await context.cookies()
    return {
        "session_storage": token in json.dumps(storage["session"]),
        "local_storage": token in json.dumps(storage["local"]),
        "cookies": any(token in cookie["value"] for cookie in cookies),
    }


async def seed_evaluations(redis_url: str, names: tuple[str, ...]) -> None:
    """Store a constructed walk-forward evaluation (tests/web/test_evaluation_api.py's
    trades) for each of ``names`` on the bundled data, under the key the service's
    evidence reads: its opportunities then carry evidence without a computation."""
    settings = make_settings()
    provider = BundledProvider()
    registry = build_registry(include_diagnostic=False)
    overall = evidence_of(TRADE_LIST, TRADE_LIST[0].signal_ms, TRADE_LIST[-1].exit_ms, 0.0)
    client = Redis.from_url(redis_url)
    try:
        for name in names:
            print_ = fingerprint(registry.get(name), compute.config_of(settings))
            evaluation = Evaluation(
                strategy=name,
                source=provider.source_name,
                data_version=provider.data_version(),
                fingerprint=print_,
                status="ready",
                window_start_ms=TRADE_LIST[0].signal_ms,
                window_end_ms=TRADE_LIST[-1].exit_ms,
                overall=overall,
                calibration=fit(TRADE_LIST),
                trades=TRADE_LIST,
                trades_total=len(TRADE_LIST),
            )
            tag = keys.evidence_tag(evaluation.source, evaluation.data_version, name, print_)
            await client.set(keys.evidence_result(tag), msgpack_encoder.encode(evaluation))
    finally:
        await client.aclose()


async def warm_evidence(base_url: str, user: str, strategies: list[str]) -> None:
    """Run scans of ``strategies`` until their results carry evidence: a worker reads
    an evaluation once a run asks for it, so the first run says `computing`."""
    client = ScanClient(base_url)

    async def ready() -> bool:
        scan_id = (await client.start(user, strategies))["scan_id"]

        async def ended() -> bool:
            body = await client.read(user, scan_id)
            return body is not None and body["status"] in TERMINAL

        await eventually(ended, what="a warm-up scan to end")
        _status, results = await client.results(user, scan_id)
        # An idea without price levels (a carry, a sale) stays unavailable: not awaited.
        statuses = {o["evidence_status"] for o in results["opportunities"]}
        return "ready" in statuses and "computing" not in statuses

    try:
        await eventually(ready, timeout_s=WARM_UP_TIMEOUT_S, interval_s=1.0, what="evidence")
    finally:
        await client.close()
