"""Request bodies and query parameters, decoded strictly: 400 malformed, 422 invalid."""

from __future__ import annotations

import re

import msgspec
from aiohttp import web

from web.errors import ApiError

# An Idempotency-Key is an opaque client token; bounded so it cannot bloat keys.
IDEMPOTENCY_KEY_MAX_CHARS = 128
IDEMPOTENCY_KEY_PATTERN = f"^[A-Za-z0-9._:-]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}$"
IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)
LIMIT_DEFAULT = 20


class ScanRequest(msgspec.Struct, forbid_unknown_fields=True):
    strategies: list[str] | None = None
    symbols: list[str] | None = None


scan_request_decoder = msgspec.json.Decoder(ScanRequest)


async def read_scan_request(request: web.Request) -> ScanRequest:
    body = await request.read()
    if not body.strip():
        return ScanRequest()
    try:
        return scan_request_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid_body", f"invalid scan request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", f"request body is not valid JSON: {exc}") from None


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX_CHARS} of A-Z a-z 0-9 . _ : -",
        )
    return key


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"`{name}` must be an integer") from None
    if not low <= value <= high:
        raise ApiError(422, "invalid_query", f"`{name}` must be between {low} and {high}")
    return value
