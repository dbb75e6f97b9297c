import math

import numpy as np
import pytest

from strategies.market_data import MarketSnapshot
from strategies.rules import hedging
from tests.strategies.synthetic import assert_well_formed, from_log_returns, skip_of, snapshot

HOURS = 40 * 24


def book(beta: float) -> tuple[np.ndarray, dict[str, np.ndarray], MarketSnapshot]:
    rng = np.random.default_rng(4)
    market = 0.005 * rng.standard_normal(HOURS)
    series = {
        "BTC/USDT": from_log_returns(market, start=50_000.0),
        "ALT/USDT": from_log_returns(
            beta * market + 0.0005 * rng.standard_normal(HOURS), start=10.0
        ),
    }
    perp = np.column_stack([series["BTC/USDT"][:, 0], series["BTC/USDT"][:, 4] * 1.001])
    holdings = {"ALT/USDT": 2_000.0}
    return market, series, snapshot(series, holdings=holdings, perp_1h={"BTC/USDT": perp})


def test_shorts_btc_perp_for_beta_times_exposure() -> None:
    _, series, snap = book(beta=1.6)
    found = hedging.run(snap)
    [hedge] = found.opportunities
    assert found.evaluated == 1 and found.skipped == []
    alt = np.diff(np.log(series["ALT/USDT"][-721:, 4]))
    btc = np.diff(np.log(series["BTC/USDT"][-721:, 4]))
    beta = np.cov(alt, btc)[0, 1] / np.var(btc, ddof=1)
    exposure = 2_000.0 * series["ALT/USDT"][-1, 4]
    entry = series["BTC/USDT"][-1, 4] * 1.001  # the perp's price
    move = 2 * btc.std(ddof=1) * math.sqrt(24)
    assert (hedge.symbol, hedge.side) == ("BTC/USDT:USDT", "short")
    assert hedge.entry == pytest.approx(entry)
    # A hedge is held with the holdings: no price levels, a review move instead.
    assert hedge.stop is None and hedge.target is None
    assert hedge.levels_note is not None and f"after a {move:.1%} BTC move" in hedge.levels_note
    assert (hedge.action, hedge.order_type, hedge.horizon_bars) == ("hedge", "market", 168)
    [leg] = hedge.legs
    assert (leg.symbol, leg.side, leg.order_type) == ("BTC/USDT:USDT", "short", "market")
    assert leg.ratio == pytest.approx(beta) and leg.price == pytest.approx(entry)
    assert hedge.group_id == "hedging:BTC/USDT:USDT"
    assert f"beta to BTC {beta:.2f}" in hedge.rationale
    assert f"short {beta * exposure / entry:.4g} BTC perp" in hedge.rationale
    assert hedge.confidence == pytest.approx(0.5 + 0.5 * min(1.0, (beta - 1.0) / 0.5), abs=1e-3)
    assert_well_formed(hedge)


def test_silent_below_the_beta_limit() -> None:
    _, _, snap = book(beta=0.5)
    found = hedging.run(snap)
    assert found.opportunities == [] and found.evaluated == 1
    assert skip_of(found, "*").code == "no_signal"
    assert skip_of(found, "*").message.startswith("portfolio beta to BTC 0.")


def test_skips_without_holdings_benchmark_or_history() -> None:
    _, series, _ = book(beta=1.6)
    nothing_held = hedging.run(snapshot(series))
    assert skip_of(nothing_held, "*").code == "no_holdings"
    no_btc = hedging.run(snapshot({"ALT/USDT": series["ALT/USDT"]}, holdings={"ALT/USDT": 1.0}))
    assert skip_of(no_btc, "*").code == "no_benchmark"
    short = {symbol: bars[-500:] for symbol, bars in series.items()}
    too_short = hedging.run(snapshot(short, holdings={"ALT/USDT": 1.0}))
    assert skip_of(too_short, "*").message == "500 of 721 hourly candles"
    assert skip_of(too_short, "*").code == "insufficient_history"
