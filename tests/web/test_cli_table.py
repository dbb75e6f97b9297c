"""The terminal's opportunities table (web/cli_table.py) at fixed widths: it fits
without wrapping a name, colours the sides, groups legs and marks conflicts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.console import Console

from web.cli_table import LEGS_SHOWN, opportunities_table

LONG_NAME = "cross_sectional_momentum_with_a_very_long_name"
LONG_SYMBOL = "AVERYLONGCOINNAMEINDEED/USDT"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ROW = re.compile(r"^(\d+) ")


def opportunity(oid: str, **fields: Any) -> dict[str, Any]:
    base = {
        "opportunity_id": oid,
        "strategy": "mean_reversion",
        "symbol": "BTC/USDT",
        "side": "long",
        "entry": 43120.5,
        "stop": 42300.0,
        "target": 45000.0,
        "expected_return": 0.0436,
    }
    return {**base, **fields}


def legs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "symbol": "ETH/USDT",
            "side": "short",
            "ratio": 0.25,
            "order_type": "limit",
            "price": 2300 + i,
        }
        for i in range(count)
    ]


RESULTS = {
    "scan_id": "a" * 32,
    "status": "completed",
    "market_data_as_of": "2025-11-30T14:00:00.000+00:00",
    "data_source": "bundled-synthetic",
    "opportunities": [
        opportunity(
            "best",
            strategy=LONG_NAME,
            symbol=LONG_SYMBOL,
            expected_value_pct=0.41,
            probability=0.52,
            evidence={"trades": 41, "hit_rate": 0.5609},
            conflicts=["short"],
        ),
        opportunity("low", expected_value_pct=-0.2, probability=0.31),
        opportunity("short", side="short", conflicts=["best"], symbol=LONG_SYMBOL),
        opportunity(
            "pair", strategy="pairs_trading", stop=None, target=None, group_id="g", legs=legs(2)
        ),
        opportunity("grid", strategy="grid", group_id="grid:1", legs=legs(LEGS_SHOWN + 3)),
        opportunity("pair-2", strategy="pairs_trading", group_id="g", symbol="SOL/USDT"),
    ],
}


def render(width: int, *, colour: bool = False) -> str:
    console = Console(
        width=width, record=True, force_terminal=colour, color_system="standard" if colour else None
    )
    with console.capture() as captured:
        console.print(opportunities_table(RESULTS, width))
    return captured.get()


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_every_line_fits_and_every_idea_is_one_line(width: int) -> None:
    lines = render(width).splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    numbered = [int(m[1]) for line in lines if (m := ROW.match(line))]
    assert numbered == list(range(1, len(RESULTS["opportunities"]) + 1)), "\n".join(lines)


def test_names_are_cut_with_an_ellipsis_when_narrow_and_whole_when_wide() -> None:
    narrow, wide = render(80), render(200)
    assert LONG_NAME not in narrow and "…" in narrow
    assert LONG_NAME in wide and LONG_SYMBOL in wide


def test_service_order_with_groups_together_and_conflicts_named() -> None:
    lines = render(200).splitlines()
    rows = {int(m[1]): line for line in lines if (m := ROW.match(line))}
    assert LONG_NAME in rows[1] and "+0.41%" in rows[1] and "0.52" in rows[1]
    assert "41 · 56%" in rows[1]  # the track record: trades and hit rate
    # Rows 1 and (the short) conflict: each names the other's row number.
    short = next(n for n, line in rows.items() if "▼ short" in line)
    assert f"⚠ #{short}" in rows[1] and "⚠ #1" in rows[short]
    # The second row of the pair follows the first, marked as the same idea.
    pair = next(n for n, line in rows.items() if "pairs_trading" in line)
    assert "″" in rows[pair + 1] and "SOL/USDT" in rows[pair + 1]
    # Without evidence: a dash, not a zero; the ranked one with -0.2 % comes before them.
    assert "-0.20%" in rows[2]
    # Legs under their idea; a grid's legs beyond LEGS_SHOWN are counted, not listed.
    assert sum("↳ ETH/USDT" in line for line in lines) == 2 + LEGS_SHOWN
    assert "↳ 3 more legs (--json)" in "\n".join(lines)


def test_long_is_green_and_short_is_red() -> None:
    coloured = render(120, colour=True)
    assert "\x1b[32m▲ long" in coloured
    assert "\x1b[31m▼ short" in coloured
    assert "▲ long" in ANSI.sub("", coloured)
