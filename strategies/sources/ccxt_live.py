"""The ccxt source: live public market data from an exchange (the optional [live] extra).

ccxt is imported lazily, only when this source is built, and its rate limiter
is always on. A snapshot shows the data up to the last *closed* hourly bar:
closed bars never change, so every strategy of a scan, on any worker, sees the
same data for the same as-of hour. Raw data is fetched once per as-of hour and
shared by every scan in it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from strategies.errors import MarketDataUnavailable, MissingDependency, UnknownSymbol
from strategies.market_data import MarketSnapshot
from strategies.sources import ccxt_shape as shape

DEFAULT_EXCHANGE = "binance"
DEFAULT_SYMBOLS = (
    "BTC/USDT",
    "ETH/USDT",
    "SOL/USDT",
    "BNB/USDT",
    "XRP/USDT",
    "ADA/USDT",
    "DOGE/USDT",
    "AVAX/USDT",
    "LINK/USDT",
    "LTC/USDT",
)
FIVE_MINUTE_SYMBOLS = ("BTC/USDT", "ETH/USDT")
HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
MS_PER_S = 1000
# 220 days of hourly bars: swing's 200-day EMA needs 200 daily bars, plus a margin.
HISTORY_HOURS = 220 * 24
# Two days of 5-minute bars: scalping's and market making's one-day windows, twice over.
FIVE_MINUTE_BARS = 2 * 24 * 12
# 30 days of 8-hourly funding: the carry strategy reads the last few, its premium 30 days.
FUNDING_RECORDS = 90
# Rows asked for per fetch_ohlcv: Binance's maximum; exchanges with a lower cap just page more.
PAGE_LIMIT = 1000
# A bound on pages per series, so a misbehaving exchange cannot loop forever.
MAX_PAGES = 20
# Raw data of this many as-of hours is kept (the current one and the previous).
CACHED_HOURS = 2
LIVE_EXTRA_HINT = "install the live extra: pip install 'opportunity-scanner[live]'"


def create_exchange(exchange_id: str) -> Any:
    """An async ccxt exchange with its rate limiter on."""
    try:
        import ccxt.async_support as ccxt_async
    except ImportError:
        raise MissingDependency("ccxt", "the ccxt market-data source", LIVE_EXTRA_HINT) from None
    factory = getattr(ccxt_async, exchange_id, None)
    if factory is None:
        raise MarketDataUnavailable(f"ccxt:{exchange_id}", f"ccxt has no exchange {exchange_id!r}")
    return factory({"enableRateLimit": True})


def last_closed_hour(now_ms: float) -> int:
    """Open time of the newest hourly bar that has closed at ``now_ms``."""
    return int(now_ms // HOUR_MS) * HOUR_MS - HOUR_MS


def perp_symbol(symbol: str) -> str:
    """ccxt's name of the linear perpetual on a spot pair: 'BTC/USDT' -> 'BTC/USDT:USDT'."""
    return f"{symbol}:{symbol.split('/')[1]}"


class CcxtProvider:
    def __init__(
        self,
        exchange_id: str = DEFAULT_EXCHANGE,
        symbols: Sequence[str] = DEFAULT_SYMBOLS,
        *,
        latency_ms: int = 0,
        exchange: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source_name = f"ccxt:{exchange_id}"
        self._exchange = exchange if exchange is not None else create_exchange(exchange_id)
        self._symbols = tuple(symbols)
        self._latency_s = latency_ms / MS_PER_S
        self._clock = clock
        self._cache: dict[int, shape.RawMarketData] = {}
        self._lock = asyncio.Lock()

    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def data_version(self) -> str:
        """The last closed hourly candle: a snapshot's data changes with it."""
        return str(last_closed_hour(self._clock() * MS_PER_S))

    async def snapshot(self, symbols: Sequence[str], as_of_ms: int | None = None) -> MarketSnapshot:
        wanted = tuple(symbols) or self._symbols
        unknown = [s for s in wanted if s not in self._symbols]
        if unknown:
            raise UnknownSymbol(unknown, self._symbols)
        as_of = as_of_ms if as_of_ms is not None else last_closed_hour(self._clock() * MS_PER_S)
        raw = await self.raw_for(as_of)
        return shape.aligned_snapshot(self.source_name, wanted, raw, as_of)

    async def raw_for(self, as_of: int) -> shape.RawMarketData:
        """Every symbol's data up to ``as_of``, fetched once per as-of hour."""
        async with self._lock:
            if as_of not in self._cache:
                self._cache[as_of] = await self.fetch_all(as_of)
                for stale in sorted(self._cache)[:-CACHED_HOURS]:
                    del self._cache[stale]
            return self._cache[as_of]

    async def fetch_all(self, as_of: int) -> shape.RawMarketData:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        markets = await self._exchange.load_markets()
        raw = shape.RawMarketData(
            markets={s: shape.market_record(s, markets.get(s)) for s in self._symbols}
        )
        await asyncio.gather(*(self.fetch_symbol(raw, s, markets, as_of) for s in self._symbols))
        return raw

    async def fetch_symbol(
        self, raw: shape.RawMarketData, symbol: str, markets: dict[str, Any], as_of: int
    ) -> None:
        hourly_from = as_of - (HISTORY_HOURS - 1) * HOUR_MS
        raw.candles_1h[symbol] = shape.candle_table(
            await self.fetch_candles(symbol, "1h", hourly_from, as_of)
        )
        if symbol in FIVE_MINUTE_SYMBOLS:
            five_from = as_of - (FIVE_MINUTE_BARS - 1) * FIVE_MIN_MS
            raw.candles_5m[symbol] = shape.candle_table(
                await self.fetch_candles(symbol, "5m", five_from, as_of)
            )
        perp = perp_symbol(symbol)
        if perp in markets:
            raw.perp_1h[symbol] = shape.close_table(
                await self.fetch_candles(perp, "1h", hourly_from, as_of)
            )
            funding_from = as_of - FUNDING_RECORDS * 8 * HOUR_MS
            records = await self._exchange.fetch_funding_rate_history(
                perp, since=funding_from, limit=FUNDING_RECORDS
            )
            raw.funding[symbol] = shape.funding_table(records)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int
    ) -> list[list[Any]]:
        """Pages of fetch_ohlcv from ``since`` until a bar at or after ``until`` arrives."""
        rows: list[list[Any]] = []
        for _ in range(MAX_PAGES):
            page = await self._exchange.fetch_ohlcv(
                symbol, timeframe, since=since, limit=PAGE_LIMIT
            )
            rows.extend(page)
            # Some exchanges cap a page below PAGE_LIMIT, so only an empty page or
            # one reaching ``until`` ends the series.
            if not page or page[-1][0] >= until:
                break
            since = int(page[-1][0]) + 1
        return rows

    async def aclose(self) -> None:
        await self._exchange.close()
