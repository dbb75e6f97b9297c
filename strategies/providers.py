"""Builds the configured market-data source; every source shares one snapshot shape."""

from __future__ import annotations

from strategies.bundled import BundledProvider
from strategies.errors import StrategyError
from strategies.market_data import MarketDataProvider


class UnknownSource(StrategyError):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(f"unknown market-data source {source!r}; valid: bundled")


def build_provider(source: str, *, latency_ms: int, files_dir: str | None) -> MarketDataProvider:
    if source == "bundled":
        return BundledProvider(latency_ms)
    raise UnknownSource(source)
