"""A snapshot as it stood at a past time: every series cut to rows <= that time.

What a walk-forward evaluation gives a rule at each past bar, so the rule sees
nothing after it (no look-ahead). Cuts are views of the full snapshot's arrays.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from strategies.market_data import MarketSnapshot

# The snapshot fields holding time series (rows [ms, ...]).
SERIES_FIELDS = ("candles_1h", "candles_5m", "funding", "perp_1h")
TIME = 0


class Truncator:
    """Cuts one full snapshot at any past time; the time columns are indexed once."""

    def __init__(self, snapshot: MarketSnapshot) -> None:
        self.snapshot = snapshot
        self._series: dict[str, dict[str, tuple[Any, np.ndarray]]] = {
            name: {
                symbol: (table, np.ascontiguousarray(np.asarray(table)[:, TIME], dtype=np.float64))
                for symbol, table in getattr(snapshot, name).items()
            }
            for name in SERIES_FIELDS
        }

    def until(self, as_of_ms: int) -> MarketSnapshot:
        """The snapshot with every series cut to rows whose time is <= ``as_of_ms``;
        a series with no row by then is absent, as a symbol not yet listed would be."""
        cut: dict[str, dict[str, Any]] = {}
        for name, series in self._series.items():
            cut[name] = {}
            for symbol, (table, times) in series.items():
                rows = int(np.searchsorted(times, as_of_ms, side="right"))
                if rows:
                    cut[name][symbol] = table[:rows]
        return dataclasses.replace(
            self.snapshot,
            as_of_ms=int(as_of_ms),
            candles_1h=cut["candles_1h"],
            candles_5m=cut["candles_5m"],
            funding=cut["funding"],
            perp_1h=cut["perp_1h"],
        )
