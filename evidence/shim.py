"""Reading rule output written before rules returned Findings and opportunities
carried their horizon in bars, their order type and their legs.

Until then: a list is the opportunities, the horizon in hourly bars is read from
the human horizon text (its largest number and unit), the order type is told
from where the entry sits against the last close, and the rows of the two
hedged ideas (a pair's spread, a carry's spot and perp) count as multi-leg:
their price levels describe one leg of a position whose result is the legs'.
"""

from __future__ import annotations

import re
from typing import Any

from strategies.opportunity import Opportunity

HOURS_PER_UNIT = {"minute": 1 / 60, "hour": 1, "day": 24, "week": 7 * 24}
UNIT_RE = re.compile(r"(minute|hour|day|week)")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
# A horizon text without a number and unit ("while the range holds"): one day.
DEFAULT_HORIZON_BARS = 24
# Strategies whose single rows are one leg of a hedged position.
HEDGED_STRATEGIES = frozenset({"pairs_trading", "funding_carry"})


def opportunities_of(result: Any) -> list[Opportunity]:
    found = getattr(result, "opportunities", result)
    return list(found)


def horizon_bars_of(opportunity: Opportunity) -> int:
    bars = getattr(opportunity, "horizon_bars", None)
    if bars:
        return int(bars)
    text = opportunity.horizon.lower()
    unit, numbers = UNIT_RE.search(text), NUMBER_RE.findall(text)
    if unit is None:
        return DEFAULT_HORIZON_BARS
    count = max((float(n) for n in numbers), default=1.0)
    return max(1, round(count * HOURS_PER_UNIT[unit.group(1)]))


def order_type_of(opportunity: Opportunity, last_close: float) -> str:
    explicit = getattr(opportunity, "order_type", None)
    if explicit:
        return str(explicit)
    direction = 1 if opportunity.side == "long" else -1
    offset = (opportunity.entry - last_close) * direction
    if abs(offset) <= last_close * 1e-9:
        return "market"
    return "stop" if offset > 0 else "limit"


def hedged(opportunity: Opportunity) -> bool:
    """A row that is one leg of a hedged position (its levels are not the idea's)."""
    return opportunity.strategy in HEDGED_STRATEGIES
