"""The admin sub-application: its own middleware requires the `admin` role."""

from __future__ import annotations

from aiohttp import web

from coordinator.service.worker_registry import live_workers
from coordinator.store.codec import json_encoder
from coordinator.store.lease_listing import LeaseFilter, lease_page
from coordinator.store.records import TERMINAL_SCAN_STATUSES, ScanStatus
from web.auth import admin_middleware, principal_of
from web.errors import ApiError
from web.handlers import JSON, snapshot_response
from web.keys import REDIS, SCANS, SETTINGS
from web.requests import int_query
from web.schemas import WorkerList

LEASES_LIMIT_DEFAULT = 100
LEASES_LIMIT_MAX = 1000
STATUSES = frozenset(status.value for status in ScanStatus)


def lease_filter(request: web.Request) -> LeaseFilter:
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_query", f"`status` must be one of {sorted(STATUSES)}")
    return LeaseFilter(
        user=request.query.get("user"), worker=request.query.get("worker"), status=status
    )


async def list_leases(request: web.Request) -> web.Response:
    """Live scans, paged by `cursor` (the previous page's `next_cursor`), filterable
    by `user`, `worker` (host:pid) and `status`."""
    limit = int_query(request, "limit", LEASES_LIMIT_DEFAULT, 1, LEASES_LIMIT_MAX)
    page = await lease_page(
        request.config_dict[REDIS],
        request.config_dict[SETTINGS],
        after=request.query.get("cursor"),
        limit=limit,
        only=lease_filter(request),
    )
    return web.Response(body=json_encoder.encode(page), content_type=JSON)


async def list_workers(request: web.Request) -> web.Response:
    workers = await live_workers(request.config_dict[REDIS])
    return web.Response(
        body=json_encoder.encode(WorkerList(workers, len(workers))), content_type=JSON
    )


async def cancel_any_scan(request: web.Request) -> web.Response:
    """An operator's cancel: any user's scan, recorded as cancelled by the admin."""
    scans = request.config_dict[SCANS]
    scan_id = request.match_info["scan_id"]
    owner = await scans.owner_of(scan_id)
    found = await scans.cancel(scan_id, owner, by=f"admin:{principal_of(request).user_id}")
    return snapshot_response(found, 200 if found.status in TERMINAL_SCAN_STATUSES else 202)


def create_admin_app() -> web.Application:
    admin = web.Application(middlewares=[admin_middleware])
    admin.router.add_get("/leases", list_leases)
    admin.router.add_get("/workers", list_workers)
    admin.router.add_post("/scans/{scan_id}/cancel", cancel_any_scan)
    return admin
