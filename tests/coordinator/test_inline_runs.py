"""A strategy runs on the event loop only once its recent runs (over the same
number of symbols) were all cheaper than the inline budget; a slow or timed-out
run sends it back to a thread."""

from __future__ import annotations

import threading
import time

import msgspec
import pytest

from coordinator.actor.inline_runs import RECENT_RUNS_KEPT, RUNS_BEFORE_INLINE, InlineRuns
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.store.records import WorkItem
from strategies.diagnostic import NOTHING
from strategies.findings import Findings
from strategies.market_data import MarketSnapshot
from strategies.registry import Registry, StrategySpec
from tests.support import StaticProvider, make_settings

BUDGET_MS = 1.0
FAST_S = 0.0001
SLOW_S = 0.5
FAR_DEADLINE = 2**62  # ms


def test_inline_after_enough_fast_runs_and_per_symbol_count() -> None:
    runs = InlineRuns(BUDGET_MS)
    for _ in range(RUNS_BEFORE_INLINE - 1):
        runs.record("s", 3, FAST_S)
    assert not runs.inline("s", 3)
    runs.record("s", 3, FAST_S)
    assert runs.inline("s", 3)
    assert not runs.inline("s", 50)  # more symbols, more work: not known yet
    assert not runs.inline("other", 3)


def test_one_slow_run_sends_it_back_to_a_thread_until_it_ages_out() -> None:
    runs = InlineRuns(BUDGET_MS)
    for elapsed in [FAST_S] * RUNS_BEFORE_INLINE + [SLOW_S]:
        runs.record("s", 3, elapsed)
    assert not runs.inline("s", 3)
    for _ in range(RECENT_RUNS_KEPT - 1):
        runs.record("s", 3, FAST_S)
        assert not runs.inline("s", 3)
    runs.record("s", 3, FAST_S)
    assert runs.inline("s", 3)


def test_a_zero_budget_never_inlines() -> None:
    runs = InlineRuns(0.0)
    for _ in range(RECENT_RUNS_KEPT):
        runs.record("s", 3, 0.0)
    assert not runs.inline("s", 3)


@pytest.mark.parametrize(("sleep_s", "inline_after"), [(0.0, RUNS_BEFORE_INLINE), (0.01, None)])
async def test_runner_moves_only_cheap_strategies_onto_the_loop(
    sleep_s: float, inline_after: int | None
) -> None:
    threads: list[int] = []

    def strategy(snapshot: MarketSnapshot) -> Findings:
        threads.append(threading.get_ident())
        if sleep_s:
            time.sleep(sleep_s)
        return NOTHING

    registry = Registry([StrategySpec("probe", "records its thread", strategy)])
    settings = msgspec.structs.replace(make_settings(), strategy_inline_budget_ms=BUDGET_MS)
    runner = StrategyRunner(None, None, None, registry, StaticProvider(), settings)  # type: ignore[arg-type]
    item = WorkItem(scan_id="s", strategy="probe", symbols=["BTC/USDT"], deadline_ms=FAR_DEADLINE)
    runs = RUNS_BEFORE_INLINE + 2
    try:
        for _ in range(runs):
            await runner.compute(item)
    finally:
        runner.close()  # its strategy threads
    loop_thread = threading.get_ident()
    on_loop = [n for n, ident in enumerate(threads) if ident == loop_thread]
    expected = list(range(inline_after, runs)) if inline_after is not None else []
    assert on_loop == expected
