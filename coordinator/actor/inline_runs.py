"""Which strategy runs are cheaper than the thread hop that would isolate them.

A strategy runs in a worker thread so a slow one never stalls the event loop
that renews this process's leases. The hop is not free: submitting, waking the
loop with the result and handing the GIL back and forth cost the loop a few
hundred microseconds a run, more than many strategies take (and a pure-Python
strategy holds the GIL in its thread anyway). So a strategy whose recent runs
over the same number of symbols all finished within the inline budget runs on
the loop instead; a single run over the budget (or a timeout) sends it back to
a thread. A strategy never seen before runs in a thread.
"""

from __future__ import annotations

from collections import deque

from coordinator.process.clock import MS_PER_S

# Runs remembered per (strategy, symbol count); the slowest of them decides.
RECENT_RUNS_KEPT = 8
# Runs in a thread a strategy needs before it may run inline.
RUNS_BEFORE_INLINE = 3
# Runs of any strategy that judge whether this process's work is quick lately.
RUNS_JUDGED = 32


class InlineRuns:
    def __init__(self, budget_ms: float) -> None:
        self._budget_s = budget_ms / MS_PER_S
        self._recent: dict[tuple[str, int], deque[float]] = {}
        # Of the last RUNS_JUDGED runs of any strategy, whether each was quick.
        self._lately: deque[bool] = deque(maxlen=RUNS_JUDGED)

    def inline(self, strategy: str, symbols: int) -> bool:
        recent = self._recent.get((strategy, symbols))
        return (
            self._budget_s > 0
            and recent is not None
            and len(recent) >= RUNS_BEFORE_INLINE
            and max(recent) <= self._budget_s
        )

    def quick_lately(self) -> bool:
        """The last RUNS_JUDGED runs, whatever their strategy, were all within budget."""
        return len(self._lately) == RUNS_JUDGED and all(self._lately)

    def record(self, strategy: str, symbols: int, elapsed_s: float) -> None:
        self._lately.append(elapsed_s <= self._budget_s)
        key = (strategy, symbols)
        if key not in self._recent:
            self._recent[key] = deque(maxlen=RECENT_RUNS_KEPT)
        self._recent[key].append(elapsed_s)
