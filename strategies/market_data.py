"""The market-data interface every source implements.

A scan reads one consistent snapshot: every strategy of a scan receives the
same :class:`MarketSnapshot` (same data, same ``as_of_ms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from strategies.findings import Skip

# What a source without a symbol's series serves: a table of no candles.
NO_CANDLES = np.empty((0, 6))
NO_CANDLES.setflags(write=False)


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """ccxt-shaped market data for a set of symbols, read-only and shared.

    ``candles_1h``/``candles_5m`` map a symbol to rows ``[ms, o, h, l, c, v]``
    (a read-only numpy array of shape (n, 6) in every source); ``funding`` maps a
    symbol to ccxt funding-rate records as rows ``[ms, rate]``; ``perp_1h`` to
    the hourly closes of its linear perpetual as rows ``[ms, close]``;
    ``markets`` to ccxt market metadata (``maker``, ``taker``, ``precision``,
    ``limits``); ``holdings`` to the quantity the user holds; ``excluded`` the symbols the
    source left out, each with its reason. No row of any
    series is later than ``as_of_ms``.
    """

    source: str
    as_of_ms: int
    symbols: tuple[str, ...]
    markets: dict[str, dict[str, Any]] = field(default_factory=dict)
    candles_1h: dict[str, Any] = field(default_factory=dict)
    candles_5m: dict[str, Any] = field(default_factory=dict)
    funding: dict[str, Any] = field(default_factory=dict)
    perp_1h: dict[str, Any] = field(default_factory=dict)
    holdings: dict[str, float] = field(default_factory=dict)
    # Symbols the source could not serve as asked (an unusable file, stale data):
    # every strategy of the scan reports them as skipped, with this reason.
    excluded: tuple[Skip, ...] = ()

    def hourly(self, symbol: str) -> Any:
        """The symbol's hourly candles (zero rows where the source has none)."""
        return self.candles_1h.get(symbol, NO_CANDLES)

    def five_minute(self, symbol: str) -> Any:
        """The symbol's 5-minute candles (zero rows where the source has none)."""
        return self.candles_5m.get(symbol, NO_CANDLES)


def perpetual_symbol(spot: str) -> str:
    """ccxt's name of the linear perpetual on a spot pair, settled in its quote:
    'BTC/USDT' -> 'BTC/USDT:USDT'."""
    quote = spot.rsplit("/", 1)[-1]
    return f"{spot}:{quote}"


class MarketDataProvider(Protocol):
    source_name: str

    def symbols(self) -> tuple[str, ...]:
        """Every symbol this source can serve."""
        ...

    def data_version(self) -> str:
        """Names the data a snapshot taken now would hold: it changes whenever that
        data may have (evidence is computed once per version). Cheap: no I/O."""
        ...

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        """The consistent snapshot for ``symbols`` (validated by the caller)."""
        ...
