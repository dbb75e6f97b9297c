"""Builds the configured market-data source; every source shares one snapshot shape.

``source`` is "bundled" (the default: the synthetic year committed with the
code), "files" (the user's OHLCV files in ``files_dir``) or "ccxt" (live
public data; "ccxt:<exchange id>" picks the exchange, Binance by default).
"""

from __future__ import annotations

from strategies.errors import MarketDataUnavailable, UnknownSource
from strategies.market_data import MarketDataProvider
from strategies.sources.bundled import BundledProvider

SOURCES = ("bundled", "files", "ccxt")
EXCHANGE_SEPARATOR = ":"


def build_provider(source: str, *, latency_ms: int, files_dir: str | None) -> MarketDataProvider:
    kind, _, exchange_id = source.partition(EXCHANGE_SEPARATOR)
    if kind == "bundled" and not exchange_id:
        return BundledProvider(latency_ms)
    if kind == "files" and not exchange_id:
        from strategies.sources.files import FilesProvider

        if not files_dir:
            raise MarketDataUnavailable("files", "set the market-data directory (MARKET_DATA_DIR)")
        return FilesProvider(files_dir, latency_ms)
    if kind == "ccxt":
        from strategies.sources.ccxt_live import DEFAULT_EXCHANGE, CcxtProvider

        return CcxtProvider(exchange_id or DEFAULT_EXCHANGE, latency_ms=latency_ms)
    raise UnknownSource(source, SOURCES)
