"""Every failure becomes `{"error": {"code", "message"}}` with a fitting status.

Never a 500 for bad input, never a stack trace in a response.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
import structlog
from aiohttp import web
from redis.exceptions import RedisError

from coordinator.errors import (
    GenerationLost,
    InvalidScanRequest,
    ScanExpired,
    ScanNotFound,
    TooManyScans,
)
from coordinator.process.clock import MS_PER_S
from coordinator.store.codec import json_encoder
from strategies.errors import ChartRequestInvalid, ChartSymbolUnknown
from web.keys import SETTINGS

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})
        super().__init__(message)


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


def error_response(error: ApiError) -> web.Response:
    body = ErrorEnvelope(ErrorBody(error.code, error.message, error.details or None))
    return web.Response(
        body=json_encoder.encode(body),
        status=error.status,
        content_type="application/json",
        headers=error.headers,
    )


def not_found(scan_id: str) -> ApiError:
    # Identical for "never existed" and "another user's": no existence leak.
    return ApiError(404, "not_found", f"scan {scan_id} not found")


def translate(exc: Exception, retry_after_s: int) -> ApiError | None:
    """Map a known exception to its API error; None for the unexpected."""
    unavailable = {"Retry-After": str(retry_after_s)}
    match exc:
        case ApiError():
            return exc
        case ScanNotFound():
            return not_found(exc.scan_id)
        case ScanExpired():
            return ApiError(
                410,
                "expired",
                str(exc),
                details={"status": exc.status, "finished_at": exc.finished_at},
            )
        case InvalidScanRequest():
            return ApiError(
                422, "invalid_" + exc.field, str(exc), details={"valid": list(exc.valid)}
            )
        case ChartRequestInvalid():
            return ApiError(
                422, "invalid_" + exc.field, str(exc), details={"valid": list(exc.valid)}
            )
        case ChartSymbolUnknown():
            return ApiError(404, "symbol_not_in_scan", str(exc), details={"valid": list(exc.valid)})
        case TooManyScans():
            retry_after = {"Retry-After": str(math.ceil(exc.retry_after_ms / MS_PER_S))}
            return ApiError(429, "too_many_scans", str(exc), headers=retry_after)
        case GenerationLost():
            return ApiError(503, "redis_data_lost", str(exc), headers=unavailable)
        case RedisError() | ConnectionError() | TimeoutError():
            return ApiError(
                503, "redis_unavailable", "Redis is unavailable; retry shortly", headers=unavailable
            )
        case web.HTTPRequestEntityTooLarge():
            return ApiError(413, "too_large", "request body too large")
        case web.HTTPMethodNotAllowed():
            return ApiError(
                405,
                "method_not_allowed",
                exc.text or "method not allowed",
                headers={"Allow": ",".join(sorted(exc.allowed_methods))},
            )
        case web.HTTPException() if exc.status >= 400:
            return ApiError(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        mapped = translate(exc, request.config_dict[SETTINGS].retry_after_s)
        assert mapped is not None
        return error_response(mapped)
    except Exception as exc:
        mapped = translate(exc, request.config_dict[SETTINGS].retry_after_s)
        if mapped is None:
            log.exception("unhandled_error", path=request.path)
            mapped = ApiError(500, "internal", "internal error")
        return error_response(mapped)
