"""The aiohttp application: routes in one table, state in typed AppKeys,
Redis and the coordinator as cleanup contexts."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from config.errors import SettingsError
from config.logging import configure_logging
from config.settings import Settings, load_settings
from coordinator.process.gc_tuning import tune_gc
from coordinator.service.coordinator import Coordinator
from coordinator.service.scans import Scans
from coordinator.store.codec import json_encoder
from coordinator.store.redis_client import connect
from strategies.market_data import MarketDataProvider
from strategies.registry import Registry, build_registry
from web import bad_requests, charts, compat, evaluation, handlers, health, openapi, page, websocket
from web.admin import create_admin_app
from web.auth import VERIFIER, WEBSOCKET_ROUTE_NAME, TokenVerifier, auth_middleware
from web.errors import error_middleware
from web.feed import FeedHub
from web.keys import COORDINATOR, FEED, PROVIDER, REDIS, REGISTRY, SCANS, SETTINGS
from web.limits import limits_ctx
from web.metrics import metrics_endpoint, metrics_middleware

ROUTES = [
    web.post("/api/v1/scans", handlers.create_scan),
    web.get("/api/v1/scans", handlers.list_scans),
    web.get("/api/v1/scans/{scan_id}", handlers.get_scan),
    web.delete("/api/v1/scans/{scan_id}", handlers.cancel_scan),
    web.get("/api/v1/scans/{scan_id}/results", handlers.get_results),
    web.get("/api/v1/scans/{scan_id}/lifecycle", handlers.get_lifecycle),
    web.get("/api/v1/scans/{scan_id}/candles", charts.get_candles),
    web.get("/api/v1/strategies/{name}/evaluation", evaluation.get_evaluation),
    web.get("/api/v1/scans/{scan_id}/ws", websocket.scan_feed, name=WEBSOCKET_ROUTE_NAME),
    web.post("/api/v1/opportunities/discover", compat.discover),
    web.get("/api/v1/opportunities/status/{scan_id}", compat.status),
    web.get("/api/v1/opportunities/results/{scan_id}", compat.results),
    web.get("/", page.index),
    web.static("/static", page.STATIC_DIR),
    web.post("/api/v1/dev/token", page.dev_token),
    web.get("/healthz", health.healthz),
    web.get("/readyz", health.readyz),
    web.get("/metrics", metrics_endpoint),
    web.get("/api/v1/openapi.json", openapi.openapi_json),
]


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.redis_url:
        # Under gunicorn (config/gunicorn.py) and `oppscan serve` an unset
        # REDIS_URL means an embedded redis-server; a bare app has none.
        raise SettingsError("REDIS_URL", "not set (run `make run` for an embedded Redis)")
    redis = connect(settings.redis_url)
    app[REDIS] = redis
    yield
    await redis.aclose()


def default_strategies(settings: Settings) -> tuple[Registry, MarketDataProvider]:
    from strategies.providers import configured_provider

    registry = build_registry(include_diagnostic=settings.diagnostic_strategies)
    return registry, configured_provider(settings)


def coordinator_ctx(
    registry: Registry | None, provider: MarketDataProvider | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async for _ in run_coordinator(app, registry, provider):
            yield

    return ctx


async def run_coordinator(
    app: web.Application, registry: Registry | None, provider: MarketDataProvider | None
) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if registry is None or provider is None:
        registry, provider = default_strategies(settings)
    coordinator = Coordinator(app[REDIS], settings, registry, provider)
    await coordinator.start()
    app[COORDINATOR] = coordinator
    # The candles route reads the scans' market data from the source the rules read.
    app[PROVIDER], app[REGISTRY] = provider, registry
    app[SCANS] = Scans(
        app[REDIS],
        settings,
        registry,
        provider.symbols(),
        coordinator.generation,
        coordinator.autopipe,
        claimer=coordinator,
    )
    document = openapi.build_document(settings, registry.names(), provider.symbols())
    app[openapi.OPENAPI] = json_encoder.encode(document)
    yield
    await coordinator.stop()


async def feed_ctx(app: web.Application) -> AsyncIterator[None]:
    """One pub/sub listener per process for every open websocket."""
    hub = FeedHub(app[REDIS], app[SETTINGS].worker_id, app[COORDINATOR].autopipe)
    stop = asyncio.Event()
    app[FEED] = hub
    await app[COORDINATOR].spawn(hub.run(stop))
    yield
    stop.set()


async def end_waits(app: web.Application) -> None:
    """on_shutdown: requests waiting on a scan (`Prefer: wait`) answer now."""
    if FEED in app:
        app[FEED].end_waits()


def create_app(
    settings: Settings,
    *,
    registry: Registry | None = None,
    provider: MarketDataProvider | None = None,
) -> web.Application:
    """The application; tests may inject a strategy registry and market-data provider."""
    bad_requests.install()
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, auth_middleware, page.compress_static],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[VERIFIER] = TokenVerifier(settings)
    app[websocket.SOCKETS] = weakref.WeakSet()
    app.cleanup_ctx.extend([redis_ctx, coordinator_ctx(registry, provider), feed_ctx, limits_ctx])
    # Waits end first: closing each socket waits for its peer's close frame.
    app.on_shutdown.extend([end_waits, websocket.close_sockets])
    app.router.add_routes(ROUTES)
    app.add_subapp("/api/v1/admin", create_admin_app())
    return app


async def gunicorn_app() -> web.Application:
    """The factory gunicorn's aiohttp worker calls in each worker process."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.worker_id)
    tune_gc()
    return create_app(settings)
