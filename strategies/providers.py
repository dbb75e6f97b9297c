"""Builds the configured market-data source; every source shares one snapshot shape."""

from __future__ import annotations

from strategies.errors import UnknownSource
from strategies.market_data import MarketDataProvider
from strategies.sources.bundled import BundledProvider

SOURCES = ("bundled", "files", "ccxt")


def build_provider(source: str, *, latency_ms: int, files_dir: str | None) -> MarketDataProvider:
    if source == "bundled":
        return BundledProvider(latency_ms)
    raise UnknownSource(source, SOURCES)
