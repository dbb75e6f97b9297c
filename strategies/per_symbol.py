"""The run of a rule that judges each symbol of a snapshot on its own.

Such a rule writes one ``evaluate`` for one symbol and its ``run`` is
``per_symbol(judge, snapshot, params)``: every symbol of the snapshot judged in
order, the opportunities and skips collected into one :class:`Findings`, each
symbol counted as evaluated. A rule's ``evaluate`` takes what it reads (its
candles, perhaps the market's fees) rather than the snapshot, so its tests can
hand it bars directly; ``on_candles`` and ``on_candles_and_market`` turn such an
``evaluate`` into the judge ``per_symbol`` calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import numpy as np

from strategies.findings import Findings, Outcome, collect
from strategies.market_data import MarketSnapshot

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)
# One symbol's outcome from the whole snapshot (what per_symbol calls).
Judge = Callable[[str, MarketSnapshot, P], Outcome]
# Which candles of a symbol a rule reads: MarketSnapshot.hourly or .five_minute.
Candles = Callable[[MarketSnapshot, str], np.ndarray]


class OnCandles(Protocol[P_contra]):
    def __call__(
        self, symbol: str, candles: np.ndarray, /, *, source: str, params: P_contra
    ) -> Outcome: ...


class OnCandlesAndMarket(Protocol[P_contra]):
    def __call__(
        self,
        symbol: str,
        candles: np.ndarray,
        market: dict[str, Any],
        /,
        *,
        source: str,
        params: P_contra,
    ) -> Outcome: ...


def per_symbol(judge: Judge[P], snapshot: MarketSnapshot, params: P) -> Findings:
    """Findings of judging every symbol of ``snapshot`` on its own, in order."""
    return collect(judge(symbol, snapshot, params) for symbol in snapshot.symbols)


def on_candles(evaluate: OnCandles[P], candles: Candles = MarketSnapshot.hourly) -> Judge[P]:
    """A judge that hands ``evaluate`` the symbol's candles (hourly unless told)."""

    def judge(symbol: str, snapshot: MarketSnapshot, params: P) -> Outcome:
        return evaluate(symbol, candles(snapshot, symbol), source=snapshot.source, params=params)

    return judge


def on_candles_and_market(
    evaluate: OnCandlesAndMarket[P], candles: Candles = MarketSnapshot.hourly
) -> Judge[P]:
    """A judge that hands ``evaluate`` the symbol's candles and its market (fees);
    a symbol the snapshot has no market for gets an empty one (default fees)."""

    def judge(symbol: str, snapshot: MarketSnapshot, params: P) -> Outcome:
        market = snapshot.markets.get(symbol, {})
        return evaluate(
            symbol, candles(snapshot, symbol), market, source=snapshot.source, params=params
        )

    return judge
