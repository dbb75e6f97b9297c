"""REST handlers of /api/v1/scans. They read published snapshots, never compute state."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from coordinator.service.connection_slots import ConnectionKind
from coordinator.service.scans import SnapshotRead
from coordinator.store.codec import json_encoder, results_decoder, snapshot_decoder
from coordinator.store.records import TERMINAL_SCAN_STATUSES, ScanStatus
from web import ranking
from web.auth import principal_of
from web.csv_export import opportunities_csv, wants_csv
from web.feed import Frame
from web.keys import COORDINATOR, FEED, SCANS, SETTINGS
from web.limits import holding
from web.metrics import PREFERENCE_APPLIED, WAITING_REQUESTS
from web.requests import (
    LIMIT_DEFAULT,
    WAIT_PREFERENCE,
    ScanRequest,
    idempotency_key,
    int_query,
    preferred_wait_s,
    read_scan_request,
)
from web.schemas import Lifecycle, ResultsEnvelope, ScanList

JSON = "application/json"
LIST_LIMIT_MAX = 100


def etag_of(version: int) -> str:
    return f'"{version}"'


def snapshot_response(found: SnapshotRead, status: int = 200) -> web.Response:
    return body_response(found.body, found.version, status)


def body_response(body: bytes, version: int, status: int = 200) -> web.Response:
    return web.Response(
        body=body,
        status=status,
        content_type=JSON,
        headers={"ETag": etag_of(version), "Cache-Control": "no-cache"},
    )


def is_terminal(frame: Frame) -> bool:
    return frame.terminal


def applied(response: web.Response, wait_s: int) -> web.Response:
    response.headers[PREFERENCE_APPLIED] = f"{WAIT_PREFERENCE}={wait_s}"
    return response


async def wait_on(
    request: web.Request, scan_id: str, done: Callable[[Frame], bool], wait_s: int
) -> Frame | None:
    """The request's wait (`Prefer: wait`) for a snapshot of the scan that is `done`;
    the caller holds one of the user's wait slots (web.limits.holding)."""
    WAITING_REQUESTS.inc()
    try:
        return await request.config_dict[FEED].wait_for(scan_id, done, wait_s)
    finally:
        WAITING_REQUESTS.dec()


async def create_scan(request: web.Request) -> web.Response:
    """Start a scan. With `Prefer: wait=N` the answer waits up to N seconds for the scan
    to end: 201 with its terminal snapshot, or 202 with the newest one when it has not.
    Such a request takes one of the user's wait slots before the scan is created, so
    one over the limit is a 429 that started nothing."""
    wait_s = preferred_wait_s(request, request.config_dict[SETTINGS].prefer_wait_max_s)
    body = await read_scan_request(request)
    if not wait_s:
        return await start_scan(request, body, wait_s)
    async with holding(request, ConnectionKind.WAIT):
        return await start_scan(request, body, wait_s)


async def start_scan(request: web.Request, body: ScanRequest, wait_s: int | None) -> web.Response:
    user = principal_of(request).user_id
    outcome = await request.config_dict[SCANS].create(
        user, body.strategies, body.symbols, idempotency_key(request)
    )
    found = outcome.snapshot
    if outcome.created and not outcome.claimed:
        request.config_dict[COORDINATOR].adopt_soon(found.scan_id)
    snapshot, version = found.body, found.version
    terminal = found.status in TERMINAL_SCAN_STATUSES
    if wait_s and not terminal:
        frame = await wait_on(request, found.scan_id, is_terminal, wait_s)
        if frame is not None and frame.version > version:
            snapshot, version, terminal = frame.body, frame.version, frame.terminal
    status = (201 if terminal else 202) if outcome.created else 200
    response = body_response(snapshot, version, status)
    response.headers["Location"] = f"/api/v1/scans/{found.scan_id}"
    return response if wait_s is None else applied(response, wait_s)


async def get_scan(request: web.Request) -> web.Response:
    """The snapshot; 304 when If-None-Match names its version. With `Prefer: wait=N` such
    a conditional read of a scan still running waits up to N seconds for a newer
    version (a long poll): 200 with it, or 304 when none came."""
    wait_s = preferred_wait_s(request, request.config_dict[SETTINGS].prefer_wait_max_s)
    found = await request.config_dict[SCANS].read(
        request.match_info["scan_id"], principal_of(request).user_id
    )
    if request.headers.get("If-None-Match") != etag_of(found.version):
        return snapshot_response(found)
    if wait_s and found.status not in TERMINAL_SCAN_STATUSES:
        async with holding(request, ConnectionKind.WAIT):
            frame = await wait_on(
                request, found.scan_id, lambda frame: frame.version > found.version, wait_s
            )
        if frame is not None and frame.version > found.version:
            return applied(body_response(frame.body, frame.version), wait_s)
    response = web.Response(status=304, headers={"ETag": etag_of(found.version)})
    return response if wait_s is None else applied(response, wait_s)


async def get_results(request: web.Request) -> web.Response:
    """Opportunities so far, best expected value first (``?sort=`` picks another order)."""
    by = ranking.sort_of(request.query.get(ranking.SORT_QUERY))
    found, raw = await request.config_dict[SCANS].read_results(
        request.match_info["scan_id"], principal_of(request).user_id
    )
    snapshot = snapshot_decoder.decode(found.body)
    envelope = ResultsEnvelope(
        scan_id=found.scan_id,
        status=snapshot.status,
        partial=snapshot.status != ScanStatus.COMPLETED,
        version=snapshot.version,
        market_data_as_of=snapshot.market_data_as_of,
        data_source=snapshot.data_source,
        opportunities=ranking.ranked(results_decoder.decode(raw), by),
    )
    if wants_csv(request.headers.get("Accept")):
        return csv_response(envelope)
    return web.Response(
        body=json_encoder.encode(envelope),
        content_type=JSON,
        headers={"ETag": etag_of(found.version), "Vary": "Accept"},
    )


def csv_response(envelope: ResultsEnvelope) -> web.Response:
    """The results as a CSV download (`Accept: text/csv`); the ETag names the
    representation too, so a cache never hands JSON's validator to CSV."""
    return web.Response(
        text=opportunities_csv(envelope.opportunities),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "ETag": f'"{envelope.version}-csv"',
            "Vary": "Accept",
            "Content-Disposition": f'attachment; filename="scan-{envelope.scan_id}.csv"',
        },
    )


async def cancel_scan(request: web.Request) -> web.Response:
    user = principal_of(request).user_id
    found = await request.config_dict[SCANS].cancel(request.match_info["scan_id"], user, by=user)
    return snapshot_response(found, 200 if found.status in TERMINAL_SCAN_STATUSES else 202)


async def list_scans(request: web.Request) -> web.Response:
    limit = int_query(request, "limit", LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)
    bodies = await request.config_dict[SCANS].recent(principal_of(request).user_id, limit)
    scans = ScanList([snapshot_decoder.decode(body) for body in bodies])
    return web.Response(body=json_encoder.encode(scans), content_type=JSON)


async def get_lifecycle(request: web.Request) -> web.Response:
    scan_id = request.match_info["scan_id"]
    events = await request.config_dict[SCANS].lifecycle(scan_id, principal_of(request).user_id)
    return web.Response(body=json_encoder.encode(Lifecycle(scan_id, events)), content_type=JSON)
