"""Command-line parameter types: durations like 30s/15m/1h/2d and comma lists.

Bad input is a click usage error (exit 2) naming the option, never a traceback.
"""

from __future__ import annotations

import re

import click

SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Digits are bounded so a huge number is a clear error, not Python's int-size limit.
DURATION_RE = re.compile(r"(\d{1,9})([smhd])")
# A token outliving a year is a mistake, not a development convenience.
MAX_DURATION_S = 365 * SECONDS_PER_UNIT["d"]


class Duration(click.ParamType):  # type: ignore[type-arg]  # not generic in click 8.1
    """A whole number of seconds, written with one unit: 30s, 15m, 1h, 2d."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        match = DURATION_RE.fullmatch(text)
        if match is None:
            self.fail(f"{value!r} is not a duration like 30s, 15m, 1h or 2d", param, ctx)
        seconds = int(match[1]) * SECONDS_PER_UNIT[match[2]]
        if not 1 <= seconds <= MAX_DURATION_S:
            self.fail(f"{value!r} must be between 1s and {MAX_DURATION_S // 86400}d", param, ctx)
        return seconds


class CommaList(click.ParamType):  # type: ignore[type-arg]  # not generic in click 8.1
    """Comma-separated names: `a,b` or `a, b`; empty items are an error."""

    name = "a,b,..."

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[str]:
        if isinstance(value, list):
            return value
        items = [item.strip() for item in str(value).split(",")]
        if not all(items):
            self.fail(f"{value!r} has an empty name; use a,b,c", param, ctx)
        return items


DURATION = Duration()
COMMA_LIST = CommaList()
