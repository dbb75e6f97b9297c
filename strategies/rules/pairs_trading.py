"""pairs_trading: Engle–Granger cointegration on 30 days of hourly log prices,
the false discovery rate held at 5 % over every pair tested (Benjamini–Hochberg),
a spread that mean-reverts within the horizon (AR(1) half-life), hedge ratio by
OLS; enter at |z| > 2, exit at 0, stop at |z| > 3.5.

Cost: each symbol is paired only with its 5 most correlated symbols (hourly
log returns over the window), so a scan tests at most 5 pairs per symbol
(1,000 for 200 symbols, not 19,900), all in one vectorised pass; the false
discovery rate is controlled over exactly the pairs tested.

What to do: sell the rich leg and buy the cheap one, both market orders, as
one idea: the row is the dependent leg (the regressed symbol), ``legs`` holds
both, the second with the hedge ratio (notional of the hedge leg per unit of
the dependent, the OLS slope of log prices). A pair exits on its spread's
z-score, not a price: stop and target are null and ``levels_note`` gives the
exits. Horizon five days (120 hourly bars); the half-life must fit in it.

Skips are per symbol (``evaluated`` counts symbols): ``insufficient_history``
under 720 hourly candles, ``no_signal`` with the symbol's best tested pair and
why it was not traded (not a discovery at the FDR, a half-life past the
horizon, or a spread z inside the entry band). A symbol in a traded pair (on
either leg) is not skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from strategies import indicators as ind
from strategies.cointegration import EngleGrangerBatch, engle_granger_many, half_life_bars
from strategies.fdr import benjamini_hochberg
from strategies.findings import Findings, Skip, insufficient, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, OrderType, leg, make_opportunity
from strategies.scoring import LONG, SHORT, blend, side_of

NAME = "pairs_trading"
# Below two symbols there is no pair to test.
MIN_SYMBOLS = 2


@dataclass(frozen=True, slots=True)
class Params:
    lookback_bars: int = 30 * ind.HOURS_PER_DAY
    # One lagged difference absorbs the short-term autocorrelation of hourly
    # spreads; fixing it (no autolag) keeps the test identical across pairs and scans.
    adf_lags: int = 1
    # The expected share of false pairs among those reported (Benjamini–Hochberg).
    false_discovery_rate: float = 0.05
    # Each symbol's partners: its most correlated symbols by hourly log returns.
    partners_per_symbol: int = 5
    entry_z: float = 2.0
    exit_z: float = 0.0
    stop_z: float = 3.5
    # "1-5 days": a spread that takes longer to revert is not this trade.
    horizon_bars: int = 5 * ind.HOURS_PER_DAY
    confidence_floor: float = 0.4


DEFAULTS = Params()


@dataclass(frozen=True, slots=True)
class Screen:
    """The pairs tested (indices into ``symbols``), their tests and BH outcome."""

    symbols: list[str]
    dependents: np.ndarray  # y of each pair (the later symbol)
    hedges: np.ndarray  # x of each pair (the earlier symbol)
    tests: EngleGrangerBatch
    discoveries: np.ndarray  # bool per pair
    q_values: np.ndarray

    @property
    def tested_with(self) -> np.ndarray:
        """How many tested pairs each symbol is in."""
        return np.bincount(
            np.concatenate([self.dependents, self.hedges]), minlength=len(self.symbols)
        )


def candidate_pairs(logs: np.ndarray, partners: int) -> tuple[np.ndarray, np.ndarray]:
    """(earlier, later) symbol indices: each symbol with its ``partners`` most
    correlated others by log returns, each unordered pair once."""
    count = logs.shape[0]
    correlation = np.corrcoef(np.diff(logs, axis=1))
    correlation = np.nan_to_num(correlation, nan=-math.inf)
    np.fill_diagonal(correlation, -math.inf)
    keep = min(partners, count - 1)
    nearest = np.argsort(-correlation, axis=1)[:, :keep]
    chosen = np.zeros((count, count), dtype=bool)
    chosen[np.repeat(np.arange(count), keep), nearest.ravel()] = True
    earlier, later = np.nonzero(np.triu(chosen | chosen.T, k=1))
    return earlier, later


def screen(symbols: list[str], logs: np.ndarray, params: Params) -> Screen:
    """Test the candidate pairs and control the false discovery rate over them."""
    hedges, dependents = candidate_pairs(logs, params.partners_per_symbol)
    tests = engle_granger_many(logs[dependents], logs[hedges], params.adf_lags)
    discoveries, q_values = benjamini_hochberg(tests.p_values, params.false_discovery_rate)
    return Screen(symbols, dependents, hedges, tests, discoveries, q_values)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One tested pair: traded, or why not."""

    pair: int
    z: float
    half_life: float
    reason: str | None  # None: traded


def verdict_of(found: Screen, pair: int, params: Params) -> Verdict:
    spread = found.tests.residuals[pair]
    sigma = float(spread.std(ddof=1))
    z = float((spread[-1] - spread.mean()) / sigma) if sigma > 0 else 0.0
    label = f"{pair_label(found, pair)}: p={found.tests.p_values[pair]:.3g}"
    if not found.discoveries[pair]:
        return Verdict(
            pair,
            z,
            math.inf,
            f"{label}, q={found.q_values[pair]:.3g} over {len(found.q_values)} tested pairs: "
            f"not cointegrated at a {params.false_discovery_rate:.0%} false discovery rate",
        )
    half_life = half_life_bars(spread)
    if not half_life <= params.horizon_bars:
        return Verdict(
            pair,
            z,
            half_life,
            f"{label}, cointegrated but its spread's half-life {half_life:.0f} h is past the "
            f"{params.horizon_bars} h horizon",
        )
    if not params.entry_z < abs(z) < params.stop_z:
        return Verdict(
            pair,
            z,
            half_life,
            f"{label}, cointegrated; spread z {z:+.2f} outside {params.entry_z:g} < |z| < "
            f"{params.stop_z:g}",
        )
    return Verdict(pair, z, half_life, None)


def pair_label(found: Screen, pair: int) -> str:
    return f"{found.symbols[found.dependents[pair]]}~{found.symbols[found.hedges[pair]]}"


def opportunity_for(
    found: Screen, verdict: Verdict, snapshot: MarketSnapshot, params: Params
) -> Opportunity:
    pair, z = verdict.pair, verdict.z
    dependent = found.symbols[found.dependents[pair]]
    hedge = found.symbols[found.hedges[pair]]
    ratio = float(found.tests.hedge_ratios[pair])
    direction = SHORT if z > 0 else LONG  # a rich spread is sold, a cheap one bought
    candles, hedge_candles = snapshot.hourly(dependent), snapshot.hourly(hedge)
    price = float(candles[-1, ind.CLOSE])
    q_value = float(found.q_values[pair])
    return make_opportunity(
        strategy=NAME,
        symbol=dependent,
        side=side_of(direction),
        entry=price,
        stop=None,
        target=None,
        levels_note=(
            f"a pair exits on its spread's z-score, not a price: take profit at z "
            f"{params.exit_z:g}, stop at |z| {params.stop_z:g} (now {z:+.2f})"
        ),
        confidence=blend(params.confidence_floor, 1.0 - q_value / params.false_discovery_rate),
        horizon="1-5 days",
        rationale=(
            f"{dependent} and {hedge} cointegrated over {params.lookback_bars // ind.HOURS_PER_DAY}"
            f" days (Engle-Granger p={found.tests.p_values[pair]:.3g}, q={q_value:.3g} over "
            f"{len(found.q_values)} tested pairs), spread half-life {verdict.half_life:.0f} h; "
            f"spread z={z:+.2f}, so {side_of(direction)} {dependent} and {side_of(-direction)} "
            f"{ratio:.2f}x {hedge} until z returns to {params.exit_z:g}, stop at |z| "
            f"{params.stop_z:g}"
        ),
        data_source=snapshot.source,
        as_of=ind.iso_of(candles[-1, ind.TIME]),
        horizon_bars=params.horizon_bars,
        group_id=f"{NAME}:{dependent}~{hedge}",
        id_suffix=hedge,
        legs=[
            leg(dependent, side_of(direction), 1.0, OrderType.MARKET, price),
            leg(
                hedge,
                side_of(-direction),
                ratio,
                OrderType.MARKET,
                float(hedge_candles[-1, ind.CLOSE]),
            ),
        ],
    )


def run(snapshot: MarketSnapshot, params: Params = DEFAULTS) -> Findings:
    usable = [s for s in snapshot.symbols if len(snapshot.hourly(s)) >= params.lookback_bars]
    skipped: list[Skip] = [
        insufficient(s, len(snapshot.hourly(s)), params.lookback_bars)
        for s in snapshot.symbols
        if s not in usable
    ]
    if len(usable) < MIN_SYMBOLS:
        skipped += [quiet(s, "no other symbol with the history to pair it with") for s in usable]
        return Findings(opportunities=[], evaluated=len(snapshot.symbols), skipped=skipped)
    logs = np.log(
        np.stack([snapshot.hourly(s)[-params.lookback_bars :, ind.CLOSE] for s in usable]).astype(
            np.float64
        )
    )
    found = screen(usable, logs, params)
    # Only discoveries can trade; the other pairs need a verdict only where they are
    # a symbol's best (see below).
    verdicts = {
        int(pair): verdict_of(found, int(pair), params)
        for pair in np.flatnonzero(found.discoveries)
    }
    opportunities = [
        opportunity_for(found, verdict, snapshot, params)
        for verdict in verdicts.values()
        if verdict.reason is None
    ]
    in_trades = {leg.symbol for o in opportunities for leg in o.legs}
    best = best_pairs(found, len(usable))
    for index, symbol in enumerate(usable):
        if symbol in in_trades:
            continue
        pair = int(best[index])
        verdict = verdicts.get(pair) or verdict_of(found, pair, params)
        tested = int(found.tested_with[index])
        skipped.append(quiet(symbol, f"best of {tested} tested pairs, {verdict.reason}"))
    return Findings(opportunities=opportunities, evaluated=len(snapshot.symbols), skipped=skipped)


def best_pairs(found: Screen, symbols: int) -> np.ndarray:
    """The index of each symbol's lowest-p tested pair (on either leg)."""
    pairs = np.arange(len(found.q_values))
    members = np.concatenate([found.dependents, found.hedges])
    p_values = np.concatenate([found.tests.p_values, found.tests.p_values])
    # Sorted by symbol, then p: each symbol's first row is its best pair.
    order = np.lexsort((p_values, members))
    first = np.searchsorted(members[order], np.arange(symbols))
    return np.concatenate([pairs, pairs])[order][first]
