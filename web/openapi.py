"""The OpenAPI 3.1 document, generated from the msgspec Structs the handlers use.

Each operation names its request and response types; msgspec writes their JSON
Schemas. The only hand-written parts are the operation table itself and the
vocabulary the registry knows (strategy and symbol names become enums, so a
fuzzer's "valid" requests are valid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from config.settings import Settings
from coordinator.store.lease_listing import LeasePage
from coordinator.store.records import ScanSnapshot, ScanStatus
from strategies.chart import TIMEFRAMES, chartable
from strategies.evidence.track_record import TrackRecord
from web import ranking
from web.charts import BARS_MAX, BARS_MIN
from web.errors import ErrorEnvelope
from web.page import DevTokenRequest
from web.requests import IDEMPOTENCY_KEY_PATTERN, ScanRequest
from web.schemas import (
    CandlesEnvelope,
    DevToken,
    Health,
    Lifecycle,
    OldResults,
    OldStatus,
    Readiness,
    ResultsEnvelope,
    ScanList,
    WorkerList,
)

REF_TEMPLATE = "#/components/schemas/{name}"
CANDLES_PATH = "/api/v1/scans/{scan_id}/candles"
EVALUATION_PATH = "/api/v1/strategies/{name}/evaluation"
SCAN_ID = {
    "name": "scan_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
ERROR_TEXT = {
    400: "malformed request",
    401: "missing, expired or forged token",
    403: "not allowed",
    404: "unknown, or not yours (or, for candles, a symbol the scan did not read)",
    405: "method not allowed",
    409: "the scan has no market data yet (market_data_pending), or its source is gone",
    410: "retention over (tombstone)",
    413: "body too large",
    422: "invalid request",
    429: (
        "too many: scans started in the rate window, long-lived connections held "
        "(websockets, `Prefer: wait`), or failed authentications from this address"
    ),
    503: "Redis unavailable or lost its data",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    responses: dict[int, type | None]
    request: type | None = None
    errors: tuple[int, ...] = ()
    auth: bool = True
    parameters: tuple[dict[str, Any], ...] = ()
    headers: dict[int, tuple[str, ...]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    # Bodies that are not JSON Structs: status -> media type (a string body).
    media: dict[int, str] = field(default_factory=dict)
    # Free text for what a status means beyond its code (the websocket's frames).
    notes: dict[int, str] = field(default_factory=dict)


def query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


LIMIT_100 = query("limit", {"type": "integer", "minimum": 1, "maximum": 100})
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}
# RFC 6455's handshake headers: without them the route is a 400.
WEBSOCKET_HANDSHAKE = tuple(
    {"name": name, "in": "header", "required": True, "schema": schema}
    for name, schema in (
        ("Upgrade", {"enum": ["websocket"]}),
        ("Connection", {"enum": ["Upgrade"]}),
        ("Sec-WebSocket-Version", {"enum": ["13"]}),
        ("Sec-WebSocket-Key", {"type": "string", "pattern": "^[A-Za-z0-9+/]{22}==$"}),
    )
)
SCAN_LINKS = {
    "GetScan": "getScan",
    "GetResults": "getResults",
    "GetLifecycle": "getLifecycle",
    "GetCandles": "getCandles",
    "CancelScan": "cancelScan",
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/api/v1/scans",
        "createScan",
        "Start a scan (or get your active one); `Prefer: wait=N` waits up to N s for its end",
        {202: ScanSnapshot, 201: ScanSnapshot, 200: ScanSnapshot},
        ScanRequest,
        (400, 413, 422, 429),
        parameters=(IDEMPOTENCY,),
        headers={
            202: ("Location", "ETag", "Preference-Applied"),
            201: ("Location", "ETag", "Preference-Applied"),
            200: ("Location", "ETag", "Preference-Applied"),
        },
        links=SCAN_LINKS,
        notes={
            202: "Started; the snapshot as it stands (with `Prefer: wait=N`, the newest "
            "one once N seconds passed without the scan ending)",
            201: "Started and, within the `Prefer: wait=N` the request asked for, ended: "
            "its terminal snapshot",
            200: "The caller's active scan, or the scan an Idempotency-Key already started "
            "(with `Prefer: wait=N`, waited for as a new one is)",
        },
    ),
    Operation(
        "get",
        "/api/v1/scans",
        "listScans",
        "Your recent scans",
        {200: ScanList},
        errors=(400, 422),
        parameters=(LIMIT_100,),
    ),
    Operation(
        "get",
        "/api/v1/scans/{scan_id}",
        "getScan",
        "The published snapshot; with If-None-Match naming its version and `Prefer: wait=N`, "
        "the next version, waited for up to N s (a long poll)",
        {200: ScanSnapshot, 304: None},
        errors=(400, 404, 410),
        parameters=(SCAN_ID,),
        headers={200: ("ETag", "Preference-Applied"), 304: ("ETag", "Preference-Applied")},
        notes={304: "Not modified: If-None-Match names the current version (after the wait)"},
    ),
    Operation(
        "delete",
        "/api/v1/scans/{scan_id}",
        "cancelScan",
        "Cancel a scan",
        {202: ScanSnapshot, 200: ScanSnapshot},
        errors=(404, 410),
        parameters=(SCAN_ID,),
    ),
    Operation(
        "get",
        "/api/v1/scans/{scan_id}/results",
        "getResults",
        "Opportunities so far, best expected value first; `Accept: text/csv` answers "
        "them as CSV (a header row, then one row per opportunity, in the same order)",
        {200: ResultsEnvelope},
        errors=(404, 410, 422),
        parameters=(SCAN_ID, query(ranking.SORT_QUERY, {"enum": list(ranking.SORTS)})),
        media={200: "text/csv"},
    ),
    Operation(
        "get",
        CANDLES_PATH,
        "getCandles",
        "The candles the scan's rules saw for one symbol (never newer than its "
        "market-data as-of), with a strategy's indicators; ETag and If-None-Match",
        {200: CandlesEnvelope, 304: None},
        errors=(400, 404, 409, 410, 422),
        parameters=(
            SCAN_ID,
            {"name": "symbol", "in": "query", "required": True, "schema": {"type": "string"}},
            query("timeframe", {"enum": list(TIMEFRAMES)}),
            query("bars", {"type": "integer", "minimum": BARS_MIN, "maximum": BARS_MAX}),
            query("strategy", {"type": "string"}),
            query("versus", {"type": "string"}),
        ),
        headers={200: ("ETag",), 304: ("ETag",)},
        notes={304: "Not modified: If-None-Match names the body's ETag"},
    ),
    Operation(
        "get",
        EVALUATION_PATH,
        "getEvaluation",
        "A strategy's track record: its walk-forward trades as a cumulative-R curve and "
        "the calibration of its stated probabilities by decile (status computing until "
        "its evaluation on this data exists)",
        {200: TrackRecord, 304: None},
        errors=(400, 404),
        parameters=(
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
        ),
        headers={200: ("ETag",), 304: ("ETag",)},
        notes={304: "Not modified: If-None-Match names the body's ETag"},
    ),
    Operation(
        "get",
        "/api/v1/scans/{scan_id}/lifecycle",
        "getLifecycle",
        "The scan's timeline",
        {200: Lifecycle},
        errors=(404, 410),
        parameters=(SCAN_ID,),
    ),
    Operation(
        "post",
        "/api/v1/opportunities/discover",
        "discover",
        "Compatibility: start a scan",
        {202: OldStatus, 200: OldStatus},
        ScanRequest,
        (400, 413, 422, 429),
    ),
    Operation(
        "get",
        "/api/v1/opportunities/status/{scan_id}",
        "oldStatus",
        "Compatibility: status",
        {200: OldStatus, 404: OldStatus},
        errors=(410,),
        parameters=(SCAN_ID,),
    ),
    Operation(
        "get",
        "/api/v1/opportunities/results/{scan_id}",
        "oldResults",
        "Compatibility: results",
        {200: OldResults, 404: OldStatus},
        errors=(410,),
        parameters=(SCAN_ID,),
    ),
    Operation(
        "get",
        "/api/v1/admin/leases",
        "adminLeases",
        "Admin: live scans and their leases",
        {200: LeasePage},
        errors=(400, 403, 422),
        parameters=(
            query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            query("cursor", {"type": "string"}),
            query("user", {"type": "string"}),
            query("worker", {"type": "string"}),
            query("status", {"enum": [status.value for status in ScanStatus]}),
        ),
    ),
    Operation(
        "get",
        "/api/v1/admin/workers",
        "adminWorkers",
        "Admin: live workers",
        {200: WorkerList},
        errors=(403,),
    ),
    Operation(
        "post",
        "/api/v1/admin/scans/{scan_id}/cancel",
        "adminCancel",
        "Admin: cancel any scan",
        {202: ScanSnapshot, 200: ScanSnapshot},
        errors=(403, 404, 410),
        parameters=(SCAN_ID,),
    ),
    Operation(
        "post",
        "/api/v1/dev/token",
        "devToken",
        "Development mode: mint a non-admin token",
        {200: DevToken},
        DevTokenRequest,
        (400, 403, 404, 422),
        auth=False,
    ),
    Operation(
        "get",
        "/api/v1/scans/{scan_id}/ws",
        "followScan",
        "Websocket feed of a scan (the one route that also takes its token as the `token` "
        "query parameter or in Sec-WebSocket-Protocol: `bearer, <token>`)",
        {101: None},
        errors=(400,),
        parameters=(SCAN_ID, query("token", {"type": "string"}), *WEBSOCKET_HANDSHAKE),
        notes={
            101: "Switching Protocols. Then one text frame per published version, each a "
            "ScanSnapshot (#/components/schemas/ScanSnapshot), versions strictly growing; "
            "a normal close (1000) after the terminal one; close 1008 (policy violation) "
            "before any data for an unknown or another user's scan; 1001 on shutdown."
        },
    ),
    Operation("get", "/healthz", "healthz", "Liveness", {200: Health}, auth=False),
    Operation(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics of every worker process (`Authorization: Bearer <METRICS_TOKEN>` "
        "when METRICS_TOKEN is set)",
        {200: None},
        errors=(401, 429),
        auth=False,
        media={200: "text/plain; version=0.0.4"},
    ),
    Operation(
        "get",
        "/api/v1/openapi.json",
        "openapi",
        "This document",
        {200: None},
        auth=False,
        media={200: "application/json"},
    ),
    Operation(
        "get", "/", "page", "The live page", {200: None}, auth=False, media={200: "text/html"}
    ),
    Operation(
        "get", "/readyz", "readyz", "Readiness", {200: Readiness, 503: Readiness}, auth=False
    ),
)


def build_document(
    settings: Settings, strategies: Sequence[str], symbols: Sequence[str]
) -> dict[str, Any]:
    types = {t for op in OPERATIONS for t in (op.request, *op.responses.values()) if t is not None}
    _top_level, components = msgspec.json.schema_components(
        [*sorted(types, key=lambda t: t.__name__), ErrorEnvelope], ref_template=REF_TEMPLATE
    )
    constrain_scan_request(components, strategies, symbols, settings.max_symbols_per_scan)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = operation_object(op)
    constrain_candles(paths[CANDLES_PATH]["get"], strategies, symbols)
    name = paths[EVALUATION_PATH]["get"]["parameters"][0]
    paths[EVALUATION_PATH]["get"]["parameters"] = [{**name, "schema": {"enum": list(strategies)}}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Opportunity Scanner", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def operation_object(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, body in op.responses.items():
        responses[str(status)] = response_object(status, body, op)
    # Any authenticated operation can meet the limit on failed authentications (429).
    for status in (*op.errors, *((401, 429) if op.auth else ()), 503):
        responses.setdefault(str(status), error_object(status))
    document: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "responses": responses,
        "parameters": list(op.parameters),
    }
    if op.request is not None:
        document["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"$ref": REF_TEMPLATE.format(name=op.request.__name__)}
                }
            },
        }
    document["security"] = [{"bearer": []}] if op.auth else []
    return document


def response_object(status: int, body: type | None, op: Operation) -> dict[str, Any]:
    response: dict[str, Any] = {"description": op.notes.get(status, f"{status}")}
    content: dict[str, Any] = {}
    if body is not None:
        content["application/json"] = {"schema": {"$ref": REF_TEMPLATE.format(name=body.__name__)}}
    if status in op.media:
        # A body in another representation (CSV), or the only one (text, HTML).
        content[op.media[status]] = {"schema": {"type": "string"}}
    if content:
        response["content"] = content
    names = op.headers.get(status, ())
    if names:
        response["headers"] = {name: {"schema": {"type": "string"}} for name in names}
    if op.links and status in (200, 201, 202):
        response["links"] = {
            name: {"operationId": target, "parameters": {"scan_id": "$response.body#/scan_id"}}
            for name, target in op.links.items()
        }
    return response


def error_object(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_TEXT.get(status, str(status)),
        "content": {
            "application/json": {"schema": {"$ref": REF_TEMPLATE.format(name="ErrorEnvelope")}}
        },
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return response


def constrain_scan_request(
    components: dict[str, Any], strategies: Sequence[str], symbols: Sequence[str], max_symbols: int
) -> None:
    """Name the registry's vocabulary in the ScanRequest schema."""
    properties = components["ScanRequest"]["properties"]
    for name, values, most in (
        ("strategies", strategies, len(strategies)),
        ("symbols", symbols, max_symbols),
    ):
        properties[name] = {
            "anyOf": [
                {"type": "array", "items": {"enum": list(values)}, "maxItems": most},
                {"type": "null"},
            ]
        }


def constrain_candles(
    operation: dict[str, Any], strategies: Sequence[str], symbols: Sequence[str]
) -> None:
    """Name the registry's strategies and the source's symbols in the candles query."""
    vocabulary = {
        "symbol": chartable(tuple(symbols)),
        "versus": chartable(tuple(symbols)),
        "strategy": list(strategies),
    }
    operation["parameters"] = [
        {**p, "schema": {"enum": vocabulary[p["name"]]}} if p["name"] in vocabulary else p
        for p in operation["parameters"]
    ]


OPENAPI = web.AppKey("openapi_document", bytes)


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.config_dict[OPENAPI], content_type="application/json")
