"""Diagnostic strategies for tests, chaos runs and benchmarks.

They stand in for real work of a known cost (none, a little CPU, waiting) or a
known fault (raising, hanging). Registered only with DIAGNOSTIC_STRATEGIES=1.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from strategies.errors import DiagnosticFailure
from strategies.findings import Findings
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity
from strategies.registry import StrategySpec

# The CPU a "cpu_1ms" strategy burns, standing in for a light real strategy.
CPU_BURN_S = 0.001
# How long "hang" sleeps: far past its own timeout, to exercise timed_out.
HANG_S = 5.0
HANG_TIMEOUT_S = 0.3
# A scan fans out to this many strategies in the benchmarks (the catalogue's size), and a
# scan runs each strategy name once: hence numbered copies of the cost-model strategies.
FANOUT_COPIES = 14


# Diagnostic strategies judge nothing: they look at no symbol and skip none.
NOTHING = Findings(opportunities=[], evaluated=0)


def noop(snapshot: MarketSnapshot) -> Findings:
    return NOTHING


def cpu_1ms(snapshot: MarketSnapshot) -> Findings:
    end = time.perf_counter() + CPU_BURN_S
    while time.perf_counter() < end:
        pass
    return NOTHING


def sleeper(seconds: float) -> Callable[[MarketSnapshot], Findings]:
    def run(snapshot: MarketSnapshot) -> Findings:
        time.sleep(seconds)
        return Findings(
            opportunities=[marker_opportunity(snapshot, f"slept {seconds:g} s")], evaluated=1
        )

    return run


def explode(snapshot: MarketSnapshot) -> Findings:
    raise DiagnosticFailure("the explode strategy always fails")


def marker_opportunity(snapshot: MarketSnapshot, rationale: str) -> Opportunity:
    """A fixed, valid opportunity so tests can count results."""
    return make_opportunity(
        strategy="diagnostic",
        symbol=snapshot.symbols[0] if snapshot.symbols else "BTC/USDT",
        side="long",
        entry=100.0,
        stop=95.0,
        target=110.0,
        confidence=0.5,
        horizon="diagnostic",
        rationale=rationale,
        data_source=snapshot.source,
        as_of="1970-01-01T00:00:00+00:00",
        horizon_bars=1,
    )


COST_MODELS: tuple[StrategySpec, ...] = (
    StrategySpec("noop", "does nothing", noop),
    StrategySpec("cpu_1ms", "burns 1 ms of CPU", cpu_1ms),
    StrategySpec("sleep_100ms", "waits 0.1 s, returns one marker", sleeper(0.1)),
    StrategySpec("sleep_500ms", "waits 0.5 s, returns one marker", sleeper(0.5)),
    StrategySpec("sleep_2s", "waits 2 s, returns one marker", sleeper(2.0)),
    StrategySpec("explode", "always raises", explode),
    StrategySpec("hang", "sleeps past its timeout", sleeper(HANG_S), timeout_s=HANG_TIMEOUT_S),
)


def numbered_copies(spec: StrategySpec, copies: int) -> tuple[StrategySpec, ...]:
    """``noop_01`` … ``noop_14``: the same work under distinct names, one scan's fan-out."""
    return tuple(
        StrategySpec(f"{spec.name}_{n:02d}", f"{spec.description} (copy {n})", spec.run)
        for n in range(1, copies + 1)
    )


NOOP, CPU_1MS, SLEEP_100MS = COST_MODELS[:3]
DIAGNOSTIC: tuple[StrategySpec, ...] = (
    COST_MODELS
    + numbered_copies(NOOP, FANOUT_COPIES)
    + numbered_copies(CPU_1MS, FANOUT_COPIES)
    + numbered_copies(SLEEP_100MS, FANOUT_COPIES)
)
