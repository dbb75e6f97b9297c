"""The opportunities as a trader reads them in a terminal: one line per idea that
fits the terminal's width (names cut with an ellipsis, never wrapped: the full
values are in `--json`), long in green and short in red, the expected value
and probability first, the legs of a multi-leg idea under it, and a mark on
ideas that conflict with another row (naming that row).

Rows keep the service's order (best expected value first, ideas without
evidence last: ``?sort=`` on the results route); the rows of one multi-leg idea
(one ``group_id``) are kept together at their best row's place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

Json = dict[str, Any]
SIDE_STYLES = {"long": "green", "short": "red"}
SIDE_MARKS = {"long": "▲ long", "short": "▼ short"}
PERCENT = 100
# Six significant digits tell levels apart at a glance; --json has all ten.
PRICE_DIGITS_SHOWN = 6
# A value the idea does not have (a pair's stop) or evidence not known yet.
MISSING = "—"
# A grid has up to ten legs: a few say what it is; the rest are in --json.
LEGS_SHOWN = 4
# Names are cut, never below this many characters (the ellipsis included).
NAME_MIN_WIDTH = 6


def grouped(opportunities: Sequence[Json]) -> list[Json]:
    """The service's order, with each group's rows moved up to its best row."""
    order: dict[str, list[Json]] = {}
    for item in opportunities:
        key = item.get("group_id") or item.get("opportunity_id") or str(id(item))
        order.setdefault(key, []).append(item)
    return [item for rows in order.values() for item in rows]


def price(value: float | None) -> str:
    return MISSING if value is None else f"{value:.{PRICE_DIGITS_SHOWN}g}"


def side_cell(side: str) -> str:
    style = SIDE_STYLES.get(side)
    text = escape(SIDE_MARKS.get(side, side))
    return f"[{style}]{text}[/]" if style else text


def expected_value(item: Json) -> str:
    value = item.get("expected_value_pct")
    return MISSING if value is None else f"{value:+.2f}%"


def probability(item: Json) -> str:
    value = item.get("probability")
    return MISSING if value is None else f"{value:.2f}"


def track_record(item: Json) -> str:
    """'41 · 56%': the strategy's walk-forward trades on this symbol and their hit rate."""
    evidence = item.get("evidence")
    if not evidence or not evidence.get("trades"):
        return MISSING
    return f"{evidence['trades']} · {evidence['hit_rate'] * PERCENT:.0f}%"


def notes(item: Json, rank: dict[str, int]) -> str:
    """'⚠ #3': this idea conflicts with row 3 (the opposite side on one of its symbols)."""
    against = [f"#{rank[other]}" for other in item.get("conflicts") or [] if other in rank]
    return f"[yellow]⚠ {' '.join(against)}[/]" if against else ""


# The columns, in order. Names (strategy, symbol) take what width is left and are
# cut with an ellipsis; every other column keeps its full width. On a narrow
# terminal the optional ones go first, in this order.
NAMES = ("strategy", "symbol")
NUMBERS = ("#", "EV", "p", "record", "return", "entry", "stop", "target")
HEADERS = ("#", "strategy", "symbol", "side", "EV", "p", "record", "return", "entry", "stop",
           "target", "")  # fmt: skip
DROPPED_FIRST = ("return", "record", "stop", "target")
# Cells are one space apart: the box's column separator, with no padding.
GAP = 1


def idea_row(item: Json, index: int, rank: dict[str, int], same_idea: bool) -> list[str]:
    return [
        str(index),
        "[dim]  ″[/]" if same_idea else escape(item["strategy"]),
        escape(item["symbol"]),
        side_cell(item["side"]),
        expected_value(item),
        probability(item),
        track_record(item),
        f"{item['expected_return'] * PERCENT:.2f} %",
        price(item.get("entry")),
        price(item.get("stop")),
        price(item.get("target")),
        notes(item, rank),
    ]


def leg_rows(item: Json) -> list[list[str]]:
    legs = item.get("legs") or []
    rows = [
        leg_row(
            f"[dim]↳ {escape(leg['symbol'])}[/]",
            side=side_cell(leg["side"]),
            entry=f"[dim]{price(leg['price'])}[/]",
            note=f"[dim]×{leg['ratio']:.3g} {escape(leg['order_type'])}[/]",
        )
        for leg in legs[:LEGS_SHOWN]
    ]
    if len(legs) > LEGS_SHOWN:
        rows.append(leg_row(f"[dim]↳ {len(legs) - LEGS_SHOWN} more legs (--json)[/]"))
    return rows


def leg_row(symbol: str, *, side: str = "", entry: str = "", note: str = "") -> list[str]:
    """A line under an idea, in HEADERS' columns."""
    return ["", "", symbol, side, "", "", "", "", entry, "", "", note]


def rows_of(found: Sequence[Json]) -> list[list[str]]:
    rank = {item.get("opportunity_id", ""): index for index, item in enumerate(found, 1)}
    rows, previous_group = [], None
    for index, item in enumerate(found, 1):
        group = item.get("group_id")
        rows.append(idea_row(item, index, rank, group is not None and group == previous_group))
        rows.extend(leg_rows(item))
        previous_group = group
    return rows


def natural_widths(rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's widest cell (header included), in terminal cells."""
    return [
        max([len(header), *(Text.from_markup(row[column]).cell_len for row in rows)])
        for column, header in enumerate(HEADERS)
    ]


def columns_shown(widths: Sequence[int], width: int) -> list[int]:
    """The columns that fit ``width`` with the names at least NAME_MIN_WIDTH wide."""
    # A column with nothing in it (no conflicts, no legs: the notes) is left out.
    shown = [column for column in range(len(HEADERS)) if widths[column] > 0]

    def needed() -> int:
        fixed = sum(NAME_MIN_WIDTH if HEADERS[c] in NAMES else widths[c] for c in shown)
        return fixed + GAP * (len(shown) - 1)

    for header in DROPPED_FIRST:
        if needed() <= width:
            break
        if HEADERS.index(header) in shown:
            shown.remove(HEADERS.index(header))
    return shown


def name_widths(widths: Sequence[int], room: int) -> tuple[int, int]:
    """How the strategy and symbol columns share ``room`` cells: each its natural
    width when both fit, else the symbol up to half and the strategy the rest."""
    strategy, symbol = widths[HEADERS.index("strategy")], widths[HEADERS.index("symbol")]
    if strategy + symbol <= room:
        return strategy, symbol
    symbol = max(NAME_MIN_WIDTH, min(symbol, room // 2))
    return max(NAME_MIN_WIDTH, room - symbol), symbol


def opportunities_table(results: Json, width: int) -> Table:
    """The opportunities of a results envelope as one table at most ``width`` wide
    (narrower only when even the names at their minimum do not fit)."""
    found = grouped(results["opportunities"])
    rows = rows_of(found)
    widths = natural_widths(rows)
    shown = columns_shown(widths, width)
    others = [c for c in shown if HEADERS[c] not in NAMES]
    room = width - sum(widths[c] for c in others) - GAP * (len(shown) - 1)
    fitted = dict(zip(NAMES, name_widths(widths, room), strict=True))
    table = Table(
        title=f"{len(found)} opportunities · scan {escape(results['scan_id'])} · "
        f"{escape(results['status'])}",
        caption=f"market data as of {escape(results.get('market_data_as_of') or 'unknown')} "
        f"({escape(results.get('data_source') or 'unknown source')})",
        box=box.SIMPLE_HEAD,
        padding=0,
        show_edge=False,
        pad_edge=False,
    )
    for column in shown:
        header = HEADERS[column]
        size = fitted.get(header, widths[column])
        justify = "right" if header in NUMBERS else "left"
        table.add_column(header, justify=justify, no_wrap=True, overflow="ellipsis", width=size)
    for row in rows:
        table.add_row(*(row[column] for column in shown))
    return table


LEGEND = (
    "EV: expected value net of fees · p: chance of the target before the stop · "
    "record: the strategy's past trades on the symbol · their hit rate · return: "
    "distance to the target · ⚠ #n: the opposite idea on the same symbol is row n"
)
