"""Measure the committed bundled dataset: the tables of docs/bundled-data.md.

    python -m scripts.describe_market_data   # prints the Markdown tables

Everything is measured on the committed file as the strategies read it (hourly
closes with their bid-ask bounce), except the regime shares, which the file does
not store: those come from rerunning the seeded model.
"""

from __future__ import annotations

import numpy as np

from scripts import generate_market_data as gen
from scripts import market_model as mm
from strategies.cointegration import engle_granger
from strategies.sources.bundled import load_dataset

HOURS_PER_YEAR = 365 * 24
FUNDING_PER_YEAR = 3 * 365
# The pairs-trading rule's window (30 days), moved a day at a time.
PAIR_WINDOW_H, PAIR_STRIDE_H, PAIR_ADF_LAGS, PAIR_P_VALUE = 30 * 24, 24, 1, 0.05


def coin_row(base: str, data: dict[str, dict[str, np.ndarray]]) -> str:
    bars = data["h1"][f"{base}/{gen.QUOTE}"]
    returns = np.diff(np.log(bars[:, 4]))
    centred = returns - returns.mean()
    kurtosis = np.mean(centred**4) / np.var(returns) ** 2
    clustering = np.corrcoef(np.abs(returns[1:]), np.abs(returns[:-1]))[0, 1]
    volume_link = np.corrcoef(np.abs(returns), bars[1:, 5])[0, 1]
    funding = data["funding"][f"{base}/{gen.QUOTE}"][:, 1]
    cells = (
        base,
        f"{bars[0, 1]:.6g}",
        f"{bars[-1, 4]:.6g}",
        f"{returns.std() * np.sqrt(HOURS_PER_YEAR):.0%}",
        f"{kurtosis:.1f}",
        f"{clustering:.2f}",
        f"{np.mean(np.log(bars[:, 2] / bars[:, 3])):.2%}",
        f"{volume_link:.2f}",
        f"{funding.mean() * FUNDING_PER_YEAR:.1%}",
        f"{np.mean(funding > np.float32(gen.FUNDING_INTEREST)):.0%}",  # stored as float32
    )
    return "| " + " | ".join(cells) + " |"


def coins_table(data: dict[str, dict[str, np.ndarray]]) -> list[str]:
    header = (
        "| coin | first open | last close | volatility (a year) | kurtosis (hourly) "
        "| autocorrelation of \\|r\\| | mean hourly range | corr(\\|r\\|, volume) "
        "| funding (a year) | funding above 0.01 % |"
    )
    return [header, "|---" + "|---:" * 9 + "|", *(coin_row(c.base, data) for c in gen.COINS)]


def pair_row(pair: gen.Cointegrated, data: dict[str, dict[str, np.ndarray]]) -> str:
    follower = np.log(data["h1"][f"{pair.follower}/{gen.QUOTE}"][:, 4])
    leader = np.log(data["h1"][f"{pair.leader}/{gen.QUOTE}"][:, 4])
    spread = follower - pair.hedge_ratio * leader
    spread -= spread.mean()
    persistence = np.corrcoef(spread[1:], spread[:-1])[0, 1]
    ends = range(PAIR_WINDOW_H, len(follower) + 1, PAIR_STRIDE_H)
    tests = [
        engle_granger(follower[end - PAIR_WINDOW_H : end], leader[end - PAIR_WINDOW_H : end],
                      PAIR_ADF_LAGS)
        for end in ends
    ]  # fmt: skip
    cells = (
        f"{pair.follower} on {pair.leader}",
        f"{pair.hedge_ratio:g} / {np.median([t.hedge_ratio for t in tests]):.2f}",
        f"{pair.half_life_h:g} h / {np.log(0.5) / np.log(persistence):.0f} h",
        f"{pair.spread_sd:.1%} / {spread.std():.1%}",
        f"{np.mean([t.p_value < PAIR_P_VALUE for t in tests]):.0%}",
    )
    return "| " + " | ".join(cells) + " |"


def pairs_table(data: dict[str, dict[str, np.ndarray]]) -> list[str]:
    header = (
        "| pair | hedge ratio (model / median 30-day fit) | half-life (model / fit) "
        "| spread sd (model / measured) | 30-day windows with p < 0.05 |"
    )
    return [header, "|---" + "|---:" * 4 + "|", *(pair_row(p, data) for p in gen.PAIRS)]


def regimes_table() -> list[str]:
    matrix = mm.transition_matrix(gen.REGIMES, gen.REGIME_EXITS)
    expected = mm.stationary_distribution(matrix)
    path = gen.simulate(gen.SEED).regimes
    realised = np.bincount(path, minlength=len(gen.REGIMES)) / len(path)
    rows = [
        f"| {regime.name} | {share:.0%} | {seen:.0%} |"
        for regime, share, seen in zip(gen.REGIMES, expected, realised, strict=True)
    ]
    switches = int(np.count_nonzero(np.diff(path)))
    last = gen.REGIMES[path[-1]].name
    return [
        "| regime | long-run share | share of the committed year |",
        "|---|---:|---:|",
        *rows,
        "",
        f"{switches} regime changes in the year; the last hour is in the {last} regime.",
    ]


def describe() -> str:
    data = load_dataset()
    return "\n".join([*coins_table(data), "", *pairs_table(data), "", *regimes_table()]) + "\n"


def main() -> None:
    print(describe(), end="")


if __name__ == "__main__":
    main()
