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
# RFC 7240's `wait` preference: delta-seconds, one or more digits (bounded, so an
# absurd value is refused rather than parsed).
WAIT_PREFERENCE = "wait"
WAIT_DIGITS_MAX = 10
DELTA_SECONDS_RE = re.compile(f"^[0-9]{{1,{WAIT_DIGITS_MAX}}}$")


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


def preferred_wait_s(request: web.Request, max_s: int) -> int | None:
    """The `wait` of the request's `Prefer` headers (RFC 7240), at most `max_s`; None
    when none is asked for. Other preferences are ignored, as the RFC says; a `wait`
    that is not delta-seconds is a 400, never read as some default."""
    for header in request.headers.getall("Prefer", ()):
        for preference in header.split(","):
            # A preference is `token [= value] *(; parameter)`: parameters are not used.
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() != WAIT_PREFERENCE:
                continue
            value = value.strip().strip('"')
            if not DELTA_SECONDS_RE.fullmatch(value):
                raise ApiError(
                    400,
                    "invalid_prefer",
                    "Prefer: wait must be a whole number of seconds "
                    f"(at most {WAIT_DIGITS_MAX} digits)",
                )
            # Only the first instance of a preference counts (RFC 7240, section 2).
            return min(int(value), max_s)
    return None
