"""per_symbol: every symbol of a snapshot judged on its own, in order, with what the
rule reads of it (hourly or 5-minute candles, its market) and the snapshot's source."""

from __future__ import annotations

from typing import Any

import numpy as np

from strategies.findings import Outcome, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity
from strategies.per_symbol import on_candles, on_candles_and_market, per_symbol
from tests.strategies.synthetic import FIVE_MIN_MS, SOURCE, candles, snapshot

PARAMS = "params"


def market_with_three_symbols() -> MarketSnapshot:
    hourly = {f"{name}/USDT": candles([100.0 + i] * (i + 2)) for i, name in enumerate("ABC")}
    five = {symbol: candles([50.0] * 5, step_ms=FIVE_MIN_MS) for symbol in hourly}
    return snapshot(hourly, candles_5m=five, markets={"A/USDT": {"maker": 0.002}})


def test_every_symbol_is_judged_in_order_and_counted() -> None:
    seen: list[tuple[str, Any]] = []

    def judge(symbol: str, market: MarketSnapshot, params: str) -> Outcome:
        seen.append((symbol, params))
        return quiet(symbol, f"looked at {symbol}")

    findings = per_symbol(judge, market_with_three_symbols(), PARAMS)
    assert seen == [("A/USDT", PARAMS), ("B/USDT", PARAMS), ("C/USDT", PARAMS)]
    assert findings.evaluated == 3 and findings.opportunities == []
    assert [skip.symbol for skip in findings.skipped] == ["A/USDT", "B/USDT", "C/USDT"]


def test_on_candles_hands_over_the_symbols_candles_and_the_source() -> None:
    calls: list[tuple[str, int, str, str]] = []

    def evaluate(symbol: str, bars: np.ndarray, *, source: str, params: str) -> Outcome:
        calls.append((symbol, len(bars), source, params))
        return [] if symbol == "B/USDT" else quiet(symbol, "no")

    market = market_with_three_symbols()
    findings = per_symbol(on_candles(evaluate), market, PARAMS)
    assert calls == [
        ("A/USDT", 2, SOURCE, PARAMS),
        ("B/USDT", 3, SOURCE, PARAMS),
        ("C/USDT", 4, SOURCE, PARAMS),
    ]
    assert findings.evaluated == 3 and len(findings.skipped) == 2
    per_symbol(on_candles(evaluate, MarketSnapshot.five_minute), market, PARAMS)
    assert [length for _s, length, _src, _p in calls[3:]] == [5, 5, 5]


def test_on_candles_and_market_hands_over_the_market_or_an_empty_one() -> None:
    markets: list[dict[str, Any]] = []

    def evaluate(
        symbol: str, bars: np.ndarray, market: dict[str, Any], *, source: str, params: str
    ) -> list[Opportunity]:
        assert len(bars) == 5 and source == SOURCE  # the 5-minute candles
        markets.append(market)
        return []

    judge = on_candles_and_market(evaluate, MarketSnapshot.five_minute)
    findings = per_symbol(judge, market_with_three_symbols(), PARAMS)
    assert markets == [{"maker": 0.002}, {}, {}]
    assert findings.evaluated == 3 and findings.opportunities == [] and findings.skipped == []
