"""HTTP metrics, the canonical request log line, and the /metrics endpoint."""

from __future__ import annotations

import os
import time

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from coordinator.process import metric_values
from coordinator.process.clock import MS_PER_S
from web.errors import Handler

metric_values.install()  # before the first metric below

log = structlog.get_logger(__name__)
# Request latency buckets: a cached status read is ~1 ms; anything past 2.5 s is an outage.
REQUEST_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
UNMATCHED_ROUTE = "unmatched"
# HTTP lets a client name any method; a label per invented one would grow /metrics
# without bound, so methods outside these count as "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# A response that waited because its request asked (`Prefer: wait`) carries this header.
PREFERENCE_APPLIED = "Preference-Applied"

HTTP_REQUESTS = Counter(
    "oppscan_http_requests_total", "HTTP requests", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "oppscan_http_request_duration_seconds",
    "HTTP request latency",
    ["route", "method"],
    buckets=REQUEST_SECONDS_BUCKETS,
)
OPEN_WEBSOCKETS = Gauge(
    "oppscan_open_websockets", "Open websocket feeds", multiprocess_mode="livesum"
)
WAITING_REQUESTS = Gauge(
    "oppscan_waiting_requests",
    "Requests waiting on a scan (Prefer: wait); one whose client left waits out its time",
    multiprocess_mode="livesum",
)


def method_of(request: web.Request) -> str:
    return request.method if request.method in KNOWN_METHODS else OTHER_METHOD


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request, and write its one canonical log line."""
    started = time.perf_counter()
    response = await handler(request)
    elapsed = time.perf_counter() - started
    route, method = route_of(request), method_of(request)
    metric_values.child(HTTP_REQUESTS, route, method, str(response.status)).inc()
    if PREFERENCE_APPLIED not in response.headers:  # a wait the client asked for is not latency
        metric_values.child(HTTP_LATENCY, route, method).observe(elapsed)
    log.info(
        "http_request",
        method=method,
        route=route,
        scan_id=request.match_info.get("scan_id"),
        status=response.status,
        duration_ms=round(elapsed * MS_PER_S, 3),
    )
    return response


def registry() -> CollectorRegistry:
    """Merged across gunicorn workers in multiprocess mode, else this process's."""
    if not os.environ.get(metric_values.MULTIPROC_ENV):
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


async def metrics_endpoint(request: web.Request) -> web.Response:
    metric_values.write_unwritten()  # this process's own figures, up to now
    body = generate_latest(registry())
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
