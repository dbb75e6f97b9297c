"""Typed application keys (aiohttp AppKey) for the app's shared state."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from config.settings import Settings
from coordinator.service.coordinator import Coordinator
from coordinator.service.scans import Scans
from strategies.market_data import MarketDataProvider
from strategies.registry import Registry
from web.feed import FeedHub

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
COORDINATOR = web.AppKey("coordinator", Coordinator)
SCANS = web.AppKey("scans", Scans)
FEED = web.AppKey("feed_hub", FeedHub)
PROVIDER = web.AppKey("market_data_provider", MarketDataProvider)
REGISTRY = web.AppKey("strategy_registry", Registry)
