import numpy as np
import pytest

from strategies.rules import volatility_regime
from tests.strategies.synthetic import assert_quiet, assert_well_formed, candles, wilder_atr, zigzag

BARS = 2000


def gk_volatility(bars: np.ndarray, window: int = 24) -> np.ndarray:
    """Reference Garman–Klass: 0.5·ln(H/L)² - (2 ln 2 - 1)·ln(C/O)², averaged, square-rooted."""
    open_, high, low, close = bars[:, 1], bars[:, 2], bars[:, 3], bars[:, 4]
    variance = 0.5 * np.log(high / low) ** 2 - (2 * np.log(2) - 1) * np.log(close / open_) ** 2
    return np.sqrt(np.convolve(variance, np.ones(window) / window, mode="valid"))


def test_brackets_a_very_quiet_market() -> None:
    half_range = np.concatenate([np.full(BARS - 30, 1.0), np.full(30, 0.1)])
    bars = candles(zigzag(BARS, 0.05), half_range=half_range)
    volatility = gk_volatility(bars)
    assert volatility[-1] < np.percentile(volatility[-180 * 24 :], 1)
    up, down = volatility_regime.evaluate("A/USDT", bars, source="t")
    close, atr = bars[-1, 4], wilder_atr(bars)[-1]
    assert (up.side, down.side) == ("long", "short")
    assert up.entry == pytest.approx(close + atr) and up.stop == pytest.approx(close)
    assert up.target == pytest.approx(close + 3.5 * atr)
    assert down.entry == pytest.approx(close - atr) and down.target == pytest.approx(
        close - 3.5 * atr
    )
    percentile = 100 * np.mean(volatility[-180 * 24 :] <= volatility[-1])
    assert up.confidence == pytest.approx(0.35 + 0.65 * (1 - percentile / 10), abs=1e-4)
    assert f"{volatility[-1]:.3%}/h" in up.rationale
    for opportunity in (up, down):
        assert_well_formed(opportunity)
    # A bracket: two stop orders, one cancelling the other, as one idea.
    assert up.group_id == down.group_id == "volatility_regime:A/USDT"
    assert up.legs == down.legs
    assert [(leg.side, leg.order_type, leg.ratio) for leg in up.legs] == [
        ("long", "stop", 1.0),
        ("short", "stop", 1.0),
    ]
    assert [leg.price for leg in up.legs] == pytest.approx([close + atr, close - atr])
    assert up.order_type == down.order_type == "stop" and up.horizon_bars == 72
    assert "one-cancels-other with the sell stop" in up.rationale


def test_silent_at_ordinary_volatility() -> None:
    bars = candles(zigzag(BARS, 0.05), half_range=1.0)
    assert_quiet(
        volatility_regime.evaluate("A/USDT", bars, source="t"),
        "percentile of 180 days (brackets at or below the 10th)",
    )
