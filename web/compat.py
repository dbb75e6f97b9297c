"""Compatibility routes with the replaced system's shapes, for old clients.

Old statuses: `scanning` (queued or running), `complete` (any terminal state;
the precise one is in `final_status`), `not_found`.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from coordinator.errors import ScanNotFound
from coordinator.store.codec import json_encoder, snapshot_decoder
from coordinator.store.records import TERMINAL_SCAN_STATUSES, ScanSnapshot, ScanStatus
from web.auth import principal_of
from web.handlers import JSON
from web.keys import COORDINATOR, SCANS
from web.requests import read_scan_request
from web.schemas import OldOpportunity, OldResults, OldStatus

# Stored opportunities read in the old shape: fields it lacks are dropped.
old_opportunities_decoder = msgspec.json.Decoder(list[OldOpportunity])


def old_status_of(snapshot: ScanSnapshot) -> OldStatus:
    ended = snapshot.status in TERMINAL_SCAN_STATUSES
    return OldStatus(
        success=True,
        scan_id=snapshot.scan_id,
        status="complete" if ended else "scanning",
        final_status=snapshot.status.value if ended else None,
        progress=snapshot.progress,
    )


def respond(body: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(body=json_encoder.encode(body), status=status, content_type=JSON)


async def discover(request: web.Request) -> web.Response:
    body = await read_scan_request(request)
    outcome = await request.config_dict[SCANS].create(
        principal_of(request).user_id, body.strategies, body.symbols, None
    )
    if outcome.created and not outcome.claimed:
        request.config_dict[COORDINATOR].adopt_soon(outcome.snapshot.scan_id)
    old = old_status_of(snapshot_decoder.decode(outcome.snapshot.body))
    old.message = "scan started" if outcome.created else "your active scan"
    return respond(old, 202 if outcome.created else 200)


async def status(request: web.Request) -> web.Response:
    scan_id = request.match_info["scan_id"]
    try:
        found = await request.config_dict[SCANS].read(scan_id, principal_of(request).user_id)
    except ScanNotFound:
        return respond(OldStatus(success=False, scan_id=scan_id, status="not_found"), 404)
    return respond(old_status_of(snapshot_decoder.decode(found.body)))


async def results(request: web.Request) -> web.Response:
    scan_id = request.match_info["scan_id"]
    try:
        found, raw = await request.config_dict[SCANS].read_results(
            scan_id, principal_of(request).user_id
        )
    except ScanNotFound:
        return respond(OldStatus(success=False, scan_id=scan_id, status="not_found"), 404)
    snapshot = snapshot_decoder.decode(found.body)
    old = old_status_of(snapshot)
    return respond(
        OldResults(
            success=True,
            scan_id=scan_id,
            status=old.status,
            final_status=old.final_status,
            partial=snapshot.status != ScanStatus.COMPLETED,
            progress=snapshot.progress,
            market_data_as_of=snapshot.market_data_as_of,
            opportunities=old_opportunities_decoder.decode(raw),
        )
    )
