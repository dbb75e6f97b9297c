"""What one run of a strategy says: the opportunities it found, how many symbols
(or pairs, or candidates) it looked at, and why it said nothing about the rest.

A strategy is never silent without a reason: every symbol it looked at and did
not fire on gets a :class:`Skip` with a code a client can count and a message a
trader can read ("120 of 200 hourly candles").
"""

from __future__ import annotations

import enum

import msgspec

from strategies.opportunity import Opportunity

# A skip about the whole portfolio rather than one symbol.
PORTFOLIO = "*"


class SkipCode(enum.StrEnum):
    INSUFFICIENT_HISTORY = "insufficient_history"
    NO_FUNDING_DATA = "no_funding_data"
    NO_PERPETUAL = "no_perpetual"
    NO_HOLDINGS = "no_holdings"
    STALE_DATA = "stale_data"
    UNUSABLE_DATA = "unusable_data"
    NO_SIGNAL = "no_signal"


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
