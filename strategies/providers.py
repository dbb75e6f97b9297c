"""Builds the configured market-data source; every source shares one snapshot shape.

``source`` is "bundled" (the default: the synthetic year committed with the
code), "files" (the user's OHLCV files in ``files_dir``) or "ccxt" (live
public data; "ccxt:<exchange id>" picks the exchange, Binance by default).
"""

from __future__ import annotations

from typing import Protocol

from strategies.errors import MarketDataUnavailable, UnknownSource
from strategies.market_data import MarketDataProvider
from strategies.sources.bundled import BundledProvider
from strategies.sources.validation import DataLimits

SOURCES = ("bundled", "files", "ccxt")
EXCHANGE_SEPARATOR = ":"


def build_provider(
    source: str,
    *,
    latency_ms: int,
    files_dir: str | None,
    data_limits: DataLimits | None = None,
) -> MarketDataProvider:
    """``data_limits`` (STALE_DATA_S, DATA_MAX_GAP_S) is what the files source checks with."""
    kind, _, exchange_id = source.partition(EXCHANGE_SEPARATOR)
    if kind == "bundled" and not exchange_id:
        return BundledProvider(latency_ms)
    if kind == "files" and not exchange_id:
        from strategies.sources.files import FilesProvider

        if not files_dir:
            raise MarketDataUnavailable("files", "set the market-data directory (MARKET_DATA_DIR)")
        if data_limits is None:
            raise MarketDataUnavailable("files", "no data limits (STALE_DATA_S, DATA_MAX_GAP_S)")
        return FilesProvider(files_dir, data_limits, latency_ms)
    if kind == "ccxt":
        from strategies.sources.ccxt_live import DEFAULT_EXCHANGE, CcxtProvider

        return CcxtProvider(exchange_id or DEFAULT_EXCHANGE, latency_ms=latency_ms)
    raise UnknownSource(source, SOURCES)


class SourceSettings(Protocol):
    """The settings a source is built from (config.settings.Settings has them)."""

    @property
    def market_data_source(self) -> str: ...
    @property
    def market_data_latency_ms(self) -> int: ...
    @property
    def market_data_dir(self) -> str | None: ...
    @property
    def stale_data_s(self) -> float: ...
    @property
    def data_max_gap_s(self) -> float: ...


def configured_provider(settings: SourceSettings) -> MarketDataProvider:
    """The source the settings name (MARKET_DATA_SOURCE and its options)."""
    return build_provider(
        settings.market_data_source,
        latency_ms=settings.market_data_latency_ms,
        files_dir=settings.market_data_dir,
        data_limits=DataLimits(
            max_gap_s=settings.data_max_gap_s, stale_data_s=settings.stale_data_s
        ),
    )
