import numpy as np
import pytest

from strategies.rules import breakout
from tests.strategies.synthetic import (
    SOURCE,
    assert_quiet,
    assert_well_formed,
    candles,
    wilder_atr,
    zigzag,
)

QUIET_VOLUME = 1000.0


def squeeze_then_breakout(surge_volume: float) -> np.ndarray:
    """Wide swings, a long quiet squeeze, then a close above the range on ``surge_volume``."""
    closes = np.concatenate([zigzag(300, 2.0), zigzag(120, 0.05), [100.6]])
    half_range = np.concatenate([np.full(300, 1.0), np.full(121, 0.1)])
    volume = np.concatenate([np.full(420, QUIET_VOLUME), [surge_volume]])
    return candles(closes, half_range=half_range, volume=volume)


def test_fires_long_on_a_volume_breakout_from_a_squeeze() -> None:
    bars = squeeze_then_breakout(surge_volume=2250.0)
    found = breakout.evaluate("AAA/USDT", bars, source=SOURCE)
    assert found is not None
    atr = wilder_atr(bars)[-1]
    assert found.side == "long"
    assert found.entry == pytest.approx(100.6)
    assert found.stop == pytest.approx(100.6 - 1.5 * atr)
    assert found.target == pytest.approx(100.6 + 3.0 * atr)
    assert found.risk_reward == pytest.approx(2.0)
    # Volume at 2.25x its average is half-way from the 1.5x line to full confirmation (3x).
    assert found.confidence == pytest.approx(0.4 + 0.6 * 0.5)
    assert "2.2x average volume" in found.rationale or "2.3x average volume" in found.rationale
    assert_well_formed(found)


def test_silent_without_volume() -> None:
    assert_quiet(
        breakout.evaluate("AAA/USDT", squeeze_then_breakout(surge_volume=1200.0), source=SOURCE),
        "volume 1.2x its average (needs 1.5x)",
    )


def test_silent_without_a_squeeze() -> None:
    # Quiet for weeks, then wide swings: the bands are at their widest, no squeeze,
    # though the last close clears the 20-bar high on triple volume.
    closes = np.concatenate([zigzag(380, 0.5), zigzag(40, 4.0), [110.0]])
    volume = np.concatenate([np.full(420, QUIET_VOLUME), [3000.0]])
    skip = assert_quiet(
        breakout.evaluate(
            "AAA/USDT", candles(closes, half_range=1.0, volume=volume), source=SOURCE
        ),
        "no squeeze",
    )
    # Only what failed is named.
    assert "volume" not in skip.message and "high" not in skip.message
