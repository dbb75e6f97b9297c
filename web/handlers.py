"""REST handlers of /api/v1/scans. They read published snapshots, never compute state."""

from __future__ import annotations

import msgspec
from aiohttp import web

from coordinator.codec import results_decoder, snapshot_decoder
from coordinator.records import TERMINAL_SCAN_STATUSES, ScanStatus
from coordinator.scans import SnapshotRead
from web.auth import principal_of
from web.keys import COORDINATOR, SCANS
from web.requests import LIMIT_DEFAULT, idempotency_key, int_query, read_scan_request
from web.schemas import Lifecycle, ResultsEnvelope, ScanList

JSON = "application/json"
LIST_LIMIT_MAX = 100
json_encoder = msgspec.json.Encoder()


def etag_of(version: int) -> str:
    return f'"{version}"'


def snapshot_response(found: SnapshotRead, status: int = 200) -> web.Response:
    return web.Response(
        body=found.body,
        status=status,
        content_type=JSON,
        headers={"ETag": etag_of(found.version), "Cache-Control": "no-cache"},
    )


async def create_scan(request: web.Request) -> web.Response:
    body = await read_scan_request(request)
    user = principal_of(request).user_id
    outcome = await request.config_dict[SCANS].create(
        user, body.strategies, body.symbols, idempotency_key(request)
    )
    found = outcome.snapshot
    response = snapshot_response(found, 202 if outcome.created else 200)
    response.headers["Location"] = f"/api/v1/scans/{found.scan_id}"
    if outcome.created and not outcome.claimed:
        request.config_dict[COORDINATOR].adopt_soon(found.scan_id)
    return response


async def get_scan(request: web.Request) -> web.Response:
    found = await request.config_dict[SCANS].read(
        request.match_info["scan_id"], principal_of(request).user_id
    )
    if request.headers.get("If-None-Match") == etag_of(found.version):
        return web.Response(status=304, headers={"ETag": etag_of(found.version)})
    return snapshot_response(found)


async def get_results(request: web.Request) -> web.Response:
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
        opportunities=results_decoder.decode(raw),
    )
    return web.Response(
        body=json_encoder.encode(envelope),
        content_type=JSON,
        headers={"ETag": etag_of(found.version)},
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
