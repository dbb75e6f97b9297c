"""What one run of a strategy says: the opportunities it found, how many symbols
(or pairs, or candidates) it looked at, and why it said nothing about the rest.

A strategy is never silent without a reason: every symbol it looked at and did
not fire on gets a :class:`Skip` with a code a client can count and a message a
trader can read ("120 of 200 hourly candles").
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from strategies.opportunity import Opportunity

# A skip about the whole portfolio rather than one symbol.
PORTFOLIO = "*"
# How many skips a strategy's state keeps as examples (the counts cover them all):
# enough to show every unusual reason of a ten-symbol scan, small enough that a
# 200-symbol scan's report stays a few kilobytes in the mailbox.
SKIP_EXAMPLES_KEPT = 20
# History units in insufficient_history messages.
HOURLY, FIVE_MINUTE, DAILY = "hourly candles", "5-minute candles", "daily candles"


class SkipCode(enum.StrEnum):
    INSUFFICIENT_HISTORY = "insufficient_history"  # "120 of 200 hourly candles"
    NO_FUNDING_DATA = "no_funding_data"
    NO_PERPETUAL = "no_perpetual"
    NO_HOLDINGS = "no_holdings"  # nothing held (or too little) for a portfolio rule
    NO_BENCHMARK = "no_benchmark"  # the series a rule measures against is not in the scan
    TOO_FEW_SYMBOLS = "too_few_symbols"  # a cross-section too small to rank
    STALE_DATA = "stale_data"
    UNUSABLE_DATA = "unusable_data"  # the files source excluded the file
    NO_SIGNAL = "no_signal"  # looked, nothing fired (the message says what it saw)


class Skip(msgspec.Struct, frozen=True, kw_only=True):
    """Why a strategy said nothing about ``symbol`` (a symbol, a pair, or PORTFOLIO)."""

    symbol: str
    code: str
    message: str


class Findings(msgspec.Struct, frozen=True, kw_only=True):
    """One run's outcome: every skip unsummarised (the worker summarises)."""

    opportunities: list[Opportunity]
    evaluated: int
    skipped: list[Skip] = msgspec.field(default_factory=list)


def insufficient(symbol: str, have: int, need: int, unit: str = HOURLY) -> Skip:
    return Skip(
        symbol=symbol, code=SkipCode.INSUFFICIENT_HISTORY, message=f"{have} of {need} {unit}"
    )


def quiet(symbol: str, message: str) -> Skip:
    """Looked and nothing fired; ``message`` says what the rule saw."""
    return Skip(symbol=symbol, code=SkipCode.NO_SIGNAL, message=message)


# What a rule says about one candidate: one opportunity, several (one idea's
# rows), or why none.
Outcome = Opportunity | Sequence[Opportunity] | Skip


def collect(outcomes: Iterable[Outcome]) -> Findings:
    """Findings of a rule that judged one candidate per outcome."""
    found: list[Opportunity] = []
    skipped: list[Skip] = []
    evaluated = 0
    for outcome in outcomes:
        evaluated += 1
        if isinstance(outcome, Skip):
            skipped.append(outcome)
        elif isinstance(outcome, Opportunity):
            found.append(outcome)
        else:
            found.extend(outcome)
    return Findings(opportunities=found, evaluated=evaluated, skipped=skipped)


def portfolio_skip(code: SkipCode, message: str) -> Skip:
    return Skip(symbol=PORTFOLIO, code=code, message=message)


def judged_whole(skip: Skip) -> Findings:
    """A portfolio rule that judged the portfolio as one candidate and said nothing."""
    return Findings(opportunities=[], evaluated=1, skipped=[skip])


def with_excluded(findings: Findings, excluded: Sequence[Skip], asked: Sequence[str]) -> Findings:
    """The findings with the source's exclusions among the skips.

    Only symbols the scan asked for (all of them when it named none) are added;
    an excluded symbol's own reason replaces what the rule said about it, and
    one the rule did not count is counted as evaluated.
    """
    wanted = set(asked)
    reported = [skip for skip in excluded if not wanted or skip.symbol in wanted]
    if not reported:
        return findings
    symbols = {skip.symbol for skip in reported}
    counted = {skip.symbol for skip in findings.skipped}
    return Findings(
        opportunities=findings.opportunities,
        evaluated=findings.evaluated + len(symbols - counted),
        skipped=reported + [skip for skip in findings.skipped if skip.symbol not in symbols],
    )


class SkipSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Skips as a strategy's state keeps them: examples and counts per code."""

    examples: list[Skip]
    counts: dict[str, int]


def summarise(skipped: Sequence[Skip], kept: int = SKIP_EXAMPLES_KEPT) -> SkipSummary:
    """At most ``kept`` examples, the unusual codes before ``no_signal``; counts of all."""
    unusual = [skip for skip in skipped if skip.code != SkipCode.NO_SIGNAL]
    usual = [skip for skip in skipped if skip.code == SkipCode.NO_SIGNAL]
    counts = Counter(skip.code for skip in skipped)
    return SkipSummary(examples=(unusual + usual)[:kept], counts=dict(counts.most_common()))


def top_reason(counts: dict[str, int]) -> str | None:
    """The most frequent skip code (ties: the unusual one first)."""
    if not counts:
        return None
    return max(counts, key=lambda code: (counts[code], code != SkipCode.NO_SIGNAL))
