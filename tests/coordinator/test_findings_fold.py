"""What a strategy found reaches the snapshot: the worker's summary of its skips,
the fold's copy into the strategy's state, and conflicts between results."""

from __future__ import annotations

import msgspec

from coordinator.actor import fold
from coordinator.actor.conflicts import with_conflicts
from coordinator.actor.strategy_actor import StrategyRunner
from coordinator.store.codec import mailbox_decoder, msgpack_encoder
from coordinator.store.records import Report, StrategyState, StrategyStatus, WorkItem
from strategies.findings import Findings, Skip, SkipCode, quiet
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Leg, Opportunity, OrderType, make_opportunity
from tests.coordinator.test_fold import NOW, report, view_of
from tests.support import StaticProvider, diagnostic_registry, make_settings

SYMBOLS = [f"S{i:03d}/USDT" for i in range(250)]


def idea(
    strategy: str,
    symbol: str,
    side: str,
    *,
    group_id: str | None = None,
    legs: tuple[Leg, ...] = (),
    suffix: str | None = None,
) -> Opportunity:
    direction = 1 if side == "long" else -1
    return make_opportunity(
        strategy=strategy,
        symbol=symbol,
        side=side,
        entry=100.0,
        stop=100.0 - direction,
        target=100.0 + 2 * direction,
        confidence=0.5,
        horizon="1d",
        rationale="r",
        data_source="x",
        as_of="t",
        horizon_bars=24,
        group_id=group_id,
        legs=legs,
        id_suffix=suffix,
    )


def leg(symbol: str, side: str) -> Leg:
    return Leg(symbol=symbol, side=side, ratio=1.0, order_type=OrderType.MARKET, price=100.0)


def test_the_worker_summarises_skips_and_adds_the_sources_exclusions() -> None:
    runner = StrategyRunner(
        None, None, None, diagnostic_registry(), StaticProvider(), make_settings()
    )  # type: ignore[arg-type]
    item = WorkItem(scan_id="s" * 32, strategy="noop", symbols=SYMBOLS, deadline_ms=NOW)
    excluded = (Skip(symbol=SYMBOLS[-1], code=SkipCode.UNUSABLE_DATA, message="row 3 of x.json"),)
    snapshot = MarketSnapshot(source="t", as_of_ms=NOW, symbols=tuple(SYMBOLS), excluded=excluded)
    found = Findings(
        opportunities=[idea("noop", SYMBOLS[0], "long")],
        evaluated=249,
        skipped=[quiet(symbol, "RSI 48 inside 30-70") for symbol in SYMBOLS[1:-1]],
    )
    message = runner.report_of(item, 1, 0.0, (snapshot, found))
    assert message.evaluated == 250
    assert message.skipped_counts == {"no_signal": 248, "unusable_data": 1}
    assert len(message.skipped) == 20 and message.skipped[0] == excluded[0]
    # What goes through the mailbox stays small whatever the universe.
    assert len(msgpack_encoder.encode(message)) < 4096


def test_the_fold_copies_what_a_strategy_looked_at_into_its_state() -> None:
    view = view_of("a", "b")
    skipped = [Skip(symbol="X/USDT", code=SkipCode.INSUFFICIENT_HISTORY, message="1 of 78")]
    message = msgspec.structs.replace(
        report("a"), evaluated=7, skipped=skipped, skipped_counts={"insufficient_history": 6}
    )
    fold.apply(view, "1-0", message)
    fold.apply(view, "2-0", message)  # a repeat changes nothing
    state = view.strategy("a")
    assert state is not None
    assert (state.evaluated, state.skipped, state.skipped_counts) == (
        7,
        skipped,
        {"insufficient_history": 6},
    )
    assert view.strategy("b") == StrategyState(name="b")  # 0 evaluated until it reports


def test_old_reports_and_states_decode_with_nothing_skipped() -> None:
    class OldReport(msgspec.Struct, tag="report", kw_only=True):
        report_id: str
        strategy: str
        attempt: int
        status: StrategyStatus
        worker: str
        at_ms: int
        duration_ms: float

    raw = msgpack_encoder.encode(
        OldReport(
            report_id="a:1",
            strategy="a",
            attempt=1,
            status="completed",
            worker="w",
            at_ms=1,
            duration_ms=1.0,
        )
    )
    decoded = mailbox_decoder.decode(raw)
    assert isinstance(decoded, Report)
    assert (decoded.evaluated, decoded.skipped, decoded.skipped_counts) == (0, [], {})
    state = msgspec.json.decode(b'{"name": "a", "status": "completed"}', type=StrategyState)
    assert (state.evaluated, state.skipped, state.skipped_counts) == (0, [], {})


def test_opposite_ideas_on_one_symbol_name_each_other() -> None:
    view = view_of("breakout", "mean_reversion")
    breakout = msgspec.structs.replace(
        report("breakout", found=0), opportunities=[idea("breakout", "BTC/USDT", "long")]
    )
    reversion = msgspec.structs.replace(
        report("mean_reversion", found=0),
        opportunities=[
            idea("mean_reversion", "BTC/USDT", "short"),
            idea("mean_reversion", "ETH/USDT", "short"),
        ],
    )
    fold.apply(view, "1-0", breakout)
    assert view.results[0].conflicts == []
    fold.apply(view, "2-0", reversion)
    fold.apply(view, "3-0", reversion)  # idempotent
    assert [(o.opportunity_id, o.conflicts) for o in view.results] == [
        ("breakout:BTC/USDT:long", ["mean_reversion:BTC/USDT:short"]),
        ("mean_reversion:BTC/USDT:short", ["breakout:BTC/USDT:long"]),
        ("mean_reversion:ETH/USDT:short", []),
    ]


def test_rows_of_one_idea_never_conflict_and_hedge_legs_do() -> None:
    bracket = [
        leg("SOL/USDT", "long"),
        leg("SOL/USDT", "short"),
    ]
    pair_legs = (leg("LINK/USDT", "short"), leg("ETH/USDT", "long"))
    rebalance_legs = (leg("AVAX/USDT", "long"), leg("ETH/USDT", "short"))
    results = [
        idea("volatility_regime", "SOL/USDT", "long", group_id="v:SOL", legs=tuple(bracket)),
        idea("volatility_regime", "SOL/USDT", "short", group_id="v:SOL", legs=tuple(bracket)),
        idea(
            "pairs_trading", "LINK/USDT", "short", group_id="p", legs=pair_legs, suffix="ETH/USDT"
        ),
        idea("portfolio_optimization", "AVAX/USDT", "long", group_id="r", legs=rebalance_legs),
        idea("portfolio_optimization", "ETH/USDT", "short", group_id="r", legs=rebalance_legs),
        idea("trend_momentum", "ETH/USDT", "short"),
    ]
    marked = {o.opportunity_id: o.conflicts for o in with_conflicts(results)}
    assert marked == {
        "volatility_regime:SOL/USDT:long": [],
        "volatility_regime:SOL/USDT:short": [],
        # The pair buys ETH as its hedge leg: against the two ETH shorts.
        "pairs_trading:LINK/USDT:short:ETH/USDT": [
            "portfolio_optimization:ETH/USDT:short",
            "trend_momentum:ETH/USDT:short",
        ],
        # The rebalance's AVAX row stands for AVAX only (its ETH leg is its own ETH row).
        "portfolio_optimization:AVAX/USDT:long": [],
        "portfolio_optimization:ETH/USDT:short": ["pairs_trading:LINK/USDT:short:ETH/USDT"],
        "trend_momentum:ETH/USDT:short": ["pairs_trading:LINK/USDT:short:ETH/USDT"],
    }
