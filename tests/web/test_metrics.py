"""/metrics in Prometheus format, with the runtime and HTTP series."""

from __future__ import annotations

from tests.support import eventually

EXPECTED_SERIES = (
    "oppscan_scans_started_total",
    "oppscan_scans_finished_total",
    "oppscan_scan_duration_seconds_bucket",
    "oppscan_strategy_duration_seconds_bucket",
    "oppscan_takeovers_total",
    "oppscan_fenced_writes_total",
    "oppscan_reclaimed_tasks_total",
    "oppscan_active_scans",
    "oppscan_open_websockets",
    "oppscan_waiting_requests",
    "oppscan_event_loop_lag_seconds_bucket",
    "oppscan_http_requests_total",
    "oppscan_http_request_duration_seconds_bucket",
)


async def test_metrics_expose_every_series(api, auth) -> None:  # type: ignore[no-untyped-def]
    created = await (
        await api.post("/api/v1/scans", json={"strategies": ["noop"]}, headers=auth())
    ).json()

    async def finished():  # type: ignore[no-untyped-def]
        body = await (await api.get(f"/api/v1/scans/{created['scan_id']}", headers=auth())).json()
        return body["status"] == "completed"

    await eventually(finished, what="scan completed")
    response = await api.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    for series in EXPECTED_SERIES:
        assert series in text, series
    assert 'oppscan_scans_finished_total{status="completed"}' in text
    assert 'route="/api/v1/scans/{scan_id}"' in text
