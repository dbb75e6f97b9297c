"""The admin sub-application: its own middleware requires the `admin` role."""

from __future__ import annotations

import msgspec
from aiohttp import web

from coordinator.lease_listing import active_leases
from web.auth import admin_middleware
from web.handlers import JSON
from web.keys import REDIS, SETTINGS
from web.requests import int_query

LEASES_LIMIT_DEFAULT = 100
LEASES_LIMIT_MAX = 1000
encoder = msgspec.json.Encoder()


async def list_leases(request: web.Request) -> web.Response:
    limit = int_query(request, "limit", LEASES_LIMIT_DEFAULT, 1, LEASES_LIMIT_MAX)
    entries = await active_leases(request.config_dict[REDIS], request.config_dict[SETTINGS], limit)
    return web.Response(
        body=encoder.encode({"leases": entries, "count": len(entries)}), content_type=JSON
    )


def create_admin_app() -> web.Application:
    admin = web.Application(middlewares=[admin_middleware])
    admin.router.add_get("/leases", list_leases)
    return admin
