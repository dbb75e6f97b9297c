"""Which opportunities of one scan contradict each other.

Two ideas conflict when one goes long a symbol the other goes short, and they
are not rows of one multi-leg idea (a bracket's buy stop and sell stop, a
grid's buy and sell, a quote's bid and ask belong together). A row stands for
its own symbol and side, plus its legs on symbols that have no row of their own
in its group (a pair's hedge leg, a carry's perpetual); a rebalance's legs are
its other rows, already counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import msgspec

from strategies.opportunity import LONG_SIDE, SHORT_SIDE, Opportunity

OPPOSITE = {LONG_SIDE: SHORT_SIDE, SHORT_SIDE: LONG_SIDE}
Exposure = tuple[str, str]  # (symbol, side)


def exposures_of(results: Sequence[Opportunity]) -> list[set[Exposure]]:
    """Each row's (symbol, side) exposures."""
    group_symbols: dict[str, set[str]] = defaultdict(set)
    for row in results:
        if row.group_id is not None:
            group_symbols[row.group_id].add(row.symbol)
    return [
        {(row.symbol, row.side)}
        | {
            (leg.symbol, leg.side)
            for leg in row.legs
            if leg.symbol not in group_symbols.get(row.group_id or "", {row.symbol})
        }
        for row in results
    ]


def with_conflicts(results: Sequence[Opportunity]) -> list[Opportunity]:
    """``results`` with each row's ``conflicts`` recomputed from the whole list
    (the same list gives the same conflicts: folding a report twice changes nothing)."""
    exposures = exposures_of(results)
    holders: dict[Exposure, list[int]] = defaultdict(list)
    for index, exposed in enumerate(exposures):
        for exposure in exposed:
            holders[exposure].append(index)
    marked = []
    for index, row in enumerate(results):
        others = sorted(
            {
                other
                for symbol, side in exposures[index]
                for other in holders[(symbol, OPPOSITE.get(side, side))]
                if other != index
                and (row.group_id is None or results[other].group_id != row.group_id)
            }
        )
        conflicts = [results[other].opportunity_id for other in others]
        marked.append(
            row if conflicts == row.conflicts else msgspec.structs.replace(row, conflicts=conflicts)
        )
    return marked
