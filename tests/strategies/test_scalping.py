import numpy as np
import pytest

from strategies import indicators as ind
from strategies.rules import scalping
from tests.strategies.synthetic import (
    FIVE_MIN_MS,
    assert_quiet,
    assert_well_formed,
    candles,
    path,
    skip_of,
    snapshot,
    wilder_atr,
    zigzag,
)

CHEAP = {"taker": 0.0001, "precision": {"price": 0.01}}


def v_back_through_vwap() -> np.ndarray:
    """A quiet day, a sell-off below VWAP, and a rebound cut at its first close back above it."""
    closes = np.concatenate([zigzag(300, 0.05), path((20, -0.1), (40, 0.15), start=100.0)[1:]])
    bars = candles(closes, step_ms=FIVE_MIN_MS)
    vwap = ind.rolling_vwap(ind.bars_of(bars), 288)
    bottom = 320
    cross = bottom + int(np.argmax(closes[bottom:] > vwap[bottom:]))
    return bars[: cross + 1]


def test_fires_long_on_a_cheap_vwap_cross() -> None:
    bars = v_back_through_vwap()
    close = bars[:, 4]
    assert ind.ema(close, 9)[-1] > ind.ema(close, 21)[-1]
    found = scalping.evaluate("AAA/USDT", bars, CHEAP, source="t")
    assert found is not None
    atr = wilder_atr(bars)[-1]
    cost = close[-1] * 2 * 0.0001 + 2 * 0.01
    assert found.side == "long" and found.entry == pytest.approx(close[-1])
    assert found.stop == pytest.approx(close[-1] - 0.7 * atr)
    assert found.target == pytest.approx(close[-1] + atr)
    assert found.risk_reward == pytest.approx(1 / 0.7, rel=1e-3)
    assert found.confidence == pytest.approx(0.3 + 0.7 * (1 - cost / (0.2 * atr)), abs=1e-4)
    assert f"{cost / atr:.2f} ATR" in found.rationale
    assert_well_formed(found)


def test_fires_short_on_the_mirror() -> None:
    bars = v_back_through_vwap()
    mirrored = bars.copy()
    mirrored[:, 1:5] = 300.0 - bars[:, 1:5]
    mirrored[:, [2, 3]] = mirrored[:, [3, 2]]
    found = scalping.evaluate("AAA/USDT", mirrored, CHEAP, source="t")
    assert found is not None and found.side == "short"
    assert_well_formed(found)


def test_silent_when_costs_eat_the_atr() -> None:
    expensive = {"taker": 0.01, "precision": {"price": 0.01}}
    assert_quiet(
        scalping.evaluate("AAA/USDT", v_back_through_vwap(), expensive, source="t"),
        "ATR (needs under 0.2",
    )


def test_silent_without_a_cross() -> None:
    rising = candles(
        path((400, 0.05)), step_ms=FIVE_MIN_MS
    )  # above VWAP all along: nothing crosses
    assert_quiet(scalping.evaluate("AAA/USDT", rising, CHEAP, source="t"), "no 5m VWAP cross")


def test_skips_symbols_without_five_minute_candles() -> None:
    found = scalping.run(snapshot({"A/USDT": candles(path((400, 0.05)))}))
    assert found.opportunities == [] and found.evaluated == 1
    assert skip_of(found, "A/USDT").message == "0 of 289 5-minute candles"
    assert skip_of(found, "A/USDT").code == "insufficient_history"
