"""The order results are served in (``?sort=`` on the results route).

The stored results keep the scan's strategy order; a read sorts them in memory
(one key, a few dozen rows). Stable sorts: ties keep that order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

from strategies.opportunity import Opportunity
from web.errors import ApiError

SORT_QUERY = "sort"


class SortBy(enum.StrEnum):
    # Net expected return of taking the trade, best first; unknown ones last.
    EXPECTED_VALUE = "expected_value"
    # Calibrated chance of reaching the target first, highest first; unknown last.
    PROBABILITY = "probability"
    # Distance to the target (expected_return), largest first: the old order.
    TARGET = "target"


DEFAULT_SORT = SortBy.EXPECTED_VALUE
SORTS = tuple(sort.value for sort in SortBy)


def known_first(value: float | None) -> tuple[bool, float]:
    """Sort key: values present, largest first, then the unknown ones."""
    return (value is None, -(value or 0.0))


KEYS: dict[SortBy, Callable[[Opportunity], tuple[object, ...]]] = {
    SortBy.EXPECTED_VALUE: lambda o: (
        *known_first(o.expected_value_pct),
        *known_first(o.probability),
    ),
    SortBy.PROBABILITY: lambda o: (
        *known_first(o.probability),
        *known_first(o.expected_value_pct),
    ),
    SortBy.TARGET: lambda o: known_first(o.expected_return),
}


def sort_of(raw: str | None) -> SortBy:
    """The requested order; a 422 naming the valid ones for anything else."""
    if raw is None:
        return DEFAULT_SORT
    try:
        return SortBy(raw)
    except ValueError:
        raise ApiError(
            422,
            "invalid_query",
            f"`{SORT_QUERY}` must be one of {', '.join(SORTS)} (got {raw!r})",
        ) from None


def ranked(opportunities: Sequence[Opportunity], by: SortBy) -> list[Opportunity]:
    return sorted(opportunities, key=KEYS[by])
