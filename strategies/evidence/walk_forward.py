"""Walk-forward evaluation of one strategy over the history a snapshot holds.

At every ``stride_bars``-th hourly bar X of the window the rule runs on the
snapshot cut at X (evidence.truncate: nothing after X); each opportunity is
then followed forward (evidence.fills) from the first bar opening once bar X
has closed (X + 1 h), on 5-minute bars where the symbol has them for that time
(finer bars settle more stop-or-target bars) and hourly bars otherwise, for
its horizon, net of the market's taker fee both ways plus slippage both ways.

While a trade (or a pending order) of the strategy is open on a symbol and
side, new signals there are counted as repeats and not traded again: a trader
already in the position would not double it, and overlapping copies of one
trade would count one outcome many times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import indicators as ind
from strategies.evidence import calibration
from strategies.evidence.fills import LONG, SHORT, Filled, NotTraded, Order, simulate
from strategies.evidence.records import Evaluation, EvaluationStatus, Trade
from strategies.evidence.stats import worst_losing_run
from strategies.evidence.summary import evidence_of
from strategies.evidence.truncate import Truncator
from strategies.indicators import Bars
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity

HOUR_MS = 3_600_000
BPS = 10_000
PERCENT = 100.0
PERP_SEPARATOR = ":"
# Taker fee assumed for a market whose metadata carries none (a common retail spot rate).
DEFAULT_TAKER_FEE = 0.001
TIME = ind.TIME
PRICE_DECIMALS = 10
RuleFn = Callable[[MarketSnapshot], Any]


@dataclass(frozen=True, slots=True)
class Config:
    # A rule runs at every this many hourly bars (see docs/strategies.md for why 4).
    stride_bars: int
    # Slippage per fill, in basis points of the price (both the entry and the exit pay it).
    slippage_bps: float
    # Trades kept in a stored evaluation (the most recent): its size stays bounded.
    trades_kept: int
    # Hourly bars of history evaluated, counted back from the last; None: all of it.
    window_bars: int | None = None


@dataclass(frozen=True, slots=True)
class Path:
    """The bars a symbol's trades are followed on, and how many make an hour."""

    bars: Bars
    per_hour: int

    def after(self, decision_ms: float) -> Bars:
        start = int(np.searchsorted(self.bars.time, decision_ms, side="left"))
        b = self.bars
        return Bars(
            b.time[start:],
            b.open[start:],
            b.high[start:],
            b.low[start:],
            b.close[start:],
            b.volume[start:],
        )

    def covers(self, decision_ms: float) -> bool:
        return len(self.bars) > 0 and self.bars.time[0] <= decision_ms <= self.bars.time[-1]


class Paths:
    """Each symbol's hourly and 5-minute bars, ready for the simulator."""

    def __init__(self, snapshot: MarketSnapshot) -> None:
        self._hourly = {
            s: Path(ind.bars_of(t), 1) for s, t in snapshot.candles_1h.items() if len(t)
        }
        self._fine: dict[str, Path] = {}
        for symbol, table in snapshot.candles_5m.items():
            if len(table) > 1:
                step_ms = float(table[1][TIME] - table[0][TIME])
                self._fine[symbol] = Path(ind.bars_of(table), max(1, round(HOUR_MS / step_ms)))

    def for_trade(self, symbol: str, decision_ms: float) -> Path | None:
        spot = spot_of(symbol)
        fine = self._fine.get(spot)
        if fine is not None and fine.covers(decision_ms):
            return fine
        return self._hourly.get(spot)


def simulable(opportunity: Opportunity) -> bool:
    """An idea with a price stop and target on either side of its entry, and a horizon:
    one whose result can be followed. Hedged or multi-leg positions, rebalances and
    de-risking sales carry no such levels (their levels_note says why)."""
    stop, target, entry = opportunity.stop, opportunity.target, opportunity.entry
    return (
        stop is not None
        and target is not None
        and entry > 0
        and stop != entry
        and opportunity.horizon_bars > 0
    )


def spot_of(symbol: str) -> str:
    """A perpetual's idea is followed on its spot pair ('BTC/USDT:USDT' -> 'BTC/USDT')."""
    return symbol.split(PERP_SEPARATOR, 1)[0]


def clock_of(snapshot: MarketSnapshot) -> np.ndarray:
    """Every hourly bar time of the snapshot, in order."""
    columns = [np.asarray(table)[:, TIME] for table in snapshot.candles_1h.values() if len(table)]
    return np.unique(np.concatenate(columns)) if columns else np.empty(0)


def evaluation_points(clock: np.ndarray, config: Config) -> np.ndarray:
    """Every stride-th bar of the window, aligned so the last bar is one of them."""
    window = clock if config.window_bars is None else clock[-config.window_bars :]
    return window[::-1][:: config.stride_bars][::-1]


@dataclass(slots=True)
class Tally:
    signals: int = 0
    repeats: int = 0
    unfilled: int = 0
    still_open: int = 0
    not_simulated: int = 0
    rule_errors: int = 0


class Replay:
    """One strategy's signals over the points, traded one position per symbol and side."""

    def __init__(self, snapshot: MarketSnapshot, config: Config) -> None:
        self.snapshot = snapshot
        self.config = config
        self.truncator = Truncator(snapshot)
        self.paths = Paths(snapshot)
        self.busy_until: dict[tuple[str, str], float] = {}
        self.tally = Tally()
        self.trades: list[Trade] = []

    def signals(self, run: RuleFn, points: np.ndarray) -> Iterator[tuple[int, Opportunity]]:
        for point in points:
            as_of = int(point)
            try:
                found = run(self.truncator.until(as_of)).opportunities
            except Exception:  # a rule failing on a short history says nothing about the rest
                self.tally.rule_errors += 1
                continue
            for opportunity in found:
                yield as_of, opportunity

    def take(self, as_of_ms: int, opportunity: Opportunity) -> None:
        self.tally.signals += 1
        key = (opportunity.symbol, opportunity.side)
        if as_of_ms < self.busy_until.get(key, -math.inf):
            self.tally.repeats += 1
            return
        decision_ms = as_of_ms + HOUR_MS  # bar X has closed: everything the rule saw is known
        path = self.paths.for_trade(opportunity.symbol, decision_ms)
        order = self.order_of(opportunity, path, as_of_ms)
        if order is None or path is None:
            self.tally.not_simulated += 1
            return
        outcome = simulate(path.after(decision_ms), order)
        if outcome is NotTraded.OPEN:
            self.tally.still_open += 1
            self.busy_until[key] = math.inf
        elif outcome is NotTraded.UNFILLED:
            self.tally.unfilled += 1
            self.busy_until[key] = decision_ms + order.horizon_bars / path.per_hour * HOUR_MS
        else:
            assert isinstance(outcome, Filled)
            bars = path.after(decision_ms)
            trade = self.trade_of(opportunity, order, outcome, bars, as_of_ms)
            self.trades.append(trade)
            self.busy_until[key] = trade.exit_ms

    def order_of(self, opportunity: Opportunity, path: Path | None, as_of_ms: int) -> Order | None:
        """The idea as an order to simulate; None when it has no price levels to follow
        or no horizon (a row of a multi-leg idea with its own levels, a grid's order, is
        followed as that one order)."""
        if path is None or not simulable(opportunity):
            return None
        assert opportunity.stop is not None and opportunity.target is not None
        return Order(
            direction=LONG if opportunity.side == "long" else SHORT,
            entry=opportunity.entry,
            stop=opportunity.stop,
            target=opportunity.target,
            order_type=opportunity.order_type,
            horizon_bars=opportunity.horizon_bars * path.per_hour,
        )

    def fees_of(self, symbol: str) -> float:
        """One fill's cost: the market's taker fee plus the slippage setting."""
        market = self.snapshot.markets.get(spot_of(symbol), {})
        taker = float(market.get("taker") or DEFAULT_TAKER_FEE)
        return taker + self.config.slippage_bps / BPS

    def trade_of(
        self, opportunity: Opportunity, order: Order, filled: Filled, bars: Bars, as_of_ms: int
    ) -> Trade:
        assert opportunity.stop is not None and opportunity.target is not None
        risk = abs(opportunity.entry - opportunity.stop)
        reward = abs(opportunity.target - opportunity.entry)
        gross = filled.gross_return(order.direction) * PERCENT
        fees = 2 * self.fees_of(opportunity.symbol) * PERCENT
        return Trade(
            symbol=opportunity.symbol,
            side=opportunity.side,
            signal_ms=as_of_ms,
            entry_ms=int(bars.time[filled.entry_index]),
            exit_ms=int(bars.time[filled.exit_index]),
            entry_price=round(filled.entry_price, PRICE_DECIMALS),
            exit_price=round(filled.exit_price, PRICE_DECIMALS),
            exit=filled.exit.value,
            risk_reward=reward / risk,
            risk_pct=risk / opportunity.entry * PERCENT,
            gross_pct=gross,
            net_pct=gross - fees,
            fees_pct=fees,
        )


def evaluate(
    name: str,
    run: RuleFn,
    snapshot: MarketSnapshot,
    config: Config,
    *,
    data_version: str,
    fingerprint: str,
) -> Evaluation:
    """Walk ``run`` forward over ``snapshot``'s history and summarise its trades."""
    started = time.process_time()
    clock = clock_of(snapshot)
    points = evaluation_points(clock, config)
    identity: dict[str, Any] = {
        "strategy": name,
        "source": snapshot.source,
        "data_version": data_version,
        "fingerprint": fingerprint,
    }
    if not len(points):
        return Evaluation(
            **identity, status=EvaluationStatus.UNAVAILABLE, note="the source holds no hourly bars"
        )
    replay = Replay(snapshot, config)
    for as_of, opportunity in replay.signals(run, points):
        replay.take(as_of, opportunity)
    return summarise(replay, points, clock, identity, time.process_time() - started)


def summarise(
    replay: Replay,
    points: np.ndarray,
    clock: np.ndarray,
    identity: dict[str, Any],
    cpu_s: float,
) -> Evaluation:
    trades = sorted(replay.trades, key=lambda trade: trade.signal_ms)
    start_ms, end_ms = int(points[0]), int(clock[-1])
    symbols = sorted({*replay.snapshot.symbols, *(trade.symbol for trade in trades)})
    fees = {symbol: 2 * replay.fees_of(symbol) * PERCENT for symbol in symbols}
    per_symbol = {
        symbol: evidence_of(
            [trade for trade in trades if trade.symbol == symbol], start_ms, end_ms, fees[symbol]
        )
        for symbol in symbols
    }
    tally, config = replay.tally, replay.config
    note = None
    if not trades:
        note = f"no trades in {len(points)} bars evaluated ({tally.signals} signals)"
    return Evaluation(
        **identity,
        status=EvaluationStatus.READY,
        note=note,
        window_start_ms=start_ms,
        window_end_ms=end_ms,
        stride_bars=config.stride_bars,
        slippage_bps=config.slippage_bps,
        bars_evaluated=len(points),
        signals=tally.signals,
        repeats=tally.repeats,
        unfilled=tally.unfilled,
        still_open=tally.still_open,
        not_simulated=tally.not_simulated,
        rule_errors=tally.rule_errors,
        overall=evidence_of(trades, start_ms, end_ms, float(np.mean(list(fees.values())))),
        per_symbol=per_symbol,
        calibration=calibration.fit(trades),
        worst_losing_run=worst_losing_run(trade.net_pct for trade in trades),
        trades_total=len(trades),
        trades=trades[-config.trades_kept :] if config.trades_kept else [],
        cpu_s=round(cpu_s, 3),
    )
