"""The live page at `/` (static HTML/JS/CSS, no build step) and, in development
mode only, a token-minting endpoint the page uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from aiohttp import web

from coordinator.store.codec import json_encoder
from web.auth import USER_ID_MAX_CHARS, mint_token
from web.errors import ApiError, Handler
from web.keys import SETTINGS
from web.schemas import DevToken

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static/"
# A conditional request is answered 304 without a body: nothing to compress.
CONDITIONAL_HEADERS = ("If-None-Match", "If-Modified-Since")
# The page loads only its own files and talks only to this service (fetch and
# websocket); it never builds markup from data, so no inline script is needed.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# A page token lasts a working session.
DEV_TOKEN_TTL_S = 8 * 3600


@web.middleware
async def compress_static(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The page's files gzipped for a browser that accepts it: the chart library
    shrinks from 199 KB to 63 KB, the whole page to about a third."""
    response = await handler(request)
    if (
        request.path.startswith(STATIC_PREFIX)
        and not any(name in request.headers for name in CONDITIONAL_HEADERS)
        and not response.prepared
    ):
        response.enable_compression()
    return response


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


class DevTokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    user: Annotated[str, msgspec.Meta(min_length=1, max_length=USER_ID_MAX_CHARS)] = "dev-user"
    # Accepted only as false: anyone who reaches the port can call this route, so it
    # never mints admin; an admin token comes from `oppscan token --admin`, which
    # needs the secret itself.
    admin: bool = False


async def dev_token(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    if not settings.dev_mode:
        raise ApiError(404, "not_found", "token minting exists only in development mode")
    try:
        body = msgspec.json.decode(await request.read() or b"{}", type=DevTokenRequest)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None
    if body.admin:
        raise ApiError(
            403,
            "forbidden",
            "this route never mints admin tokens; run `oppscan token --user U --admin` "
            "on the machine that holds the secret",
        )
    token = mint_token(settings, body.user, ttl_s=DEV_TOKEN_TTL_S)
    body_out = DevToken(token=token, user=body.user, expires_in_s=DEV_TOKEN_TTL_S)
    return web.Response(body=json_encoder.encode(body_out), content_type="application/json")
