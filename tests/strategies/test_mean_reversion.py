import numpy as np
import pytest

from strategies import indicators as ind
from strategies.rules import mean_reversion
from tests.strategies.synthetic import (
    SOURCE,
    assert_accounted,
    assert_quiet,
    assert_well_formed,
    candles,
    path,
    skip_of,
    snapshot,
    wilder_atr,
    zigzag,
)


def flat_then_selloff() -> np.ndarray:
    """A quiet range, then five straight 0.5 drops: below the lower band, RSI deep in oversold."""
    closes = np.concatenate([zigzag(60, 0.1), path((5, -0.5), start=100.0)[1:]])
    return candles(closes)


def test_fires_long_targeting_the_middle_band() -> None:
    bars = flat_then_selloff()
    close = bars[:, 4]
    found = mean_reversion.evaluate("AAA/USDT", bars, source=SOURCE)
    assert found is not None
    middle = close[-20:].mean()
    lower = middle - 2 * close[-20:].std()
    assert close[-1] < lower  # the setup really is below the band (population std, as Bollinger)
    assert found.side == "long"
    assert found.entry == pytest.approx(97.5)
    assert found.target == pytest.approx(middle)
    assert found.stop == pytest.approx(97.5 - 1.5 * wilder_atr(bars)[-1])
    strength = ind.rsi(close)[-1]
    assert strength < 30
    assert found.confidence == pytest.approx(0.45 + 0.55 * min(1.0, (30 - strength) / 20), abs=1e-4)
    assert f"RSI14 {strength:.1f}" in found.rationale
    assert_well_formed(found)


def test_fires_short_above_the_upper_band() -> None:
    closes = np.concatenate([zigzag(60, 0.1), path((5, 0.5), start=100.1)[1:]])
    found = mean_reversion.evaluate("AAA/USDT", candles(closes), source=SOURCE)
    assert found is not None
    assert found.side == "short"
    assert found.stop == pytest.approx(closes[-1] + 1.5 * wilder_atr(candles(closes))[-1])
    assert found.target == pytest.approx(closes[-20:].mean())
    assert_well_formed(found)


def test_silent_inside_the_bands() -> None:
    assert_quiet(
        mean_reversion.evaluate("AAA/USDT", candles(zigzag(80, 0.1)), source=SOURCE),
        "inside the Bollinger bands",
        "RSI14",
    )


def test_silent_when_rsi_is_not_extreme() -> None:
    strict = mean_reversion.Params(rsi_oversold=1.0)
    assert_quiet(
        mean_reversion.evaluate("AAA/USDT", flat_then_selloff(), source=SOURCE, params=strict),
        "outside the Bollinger bands",
        "needs below 1",
    )


def test_run_returns_only_the_triggered_symbols() -> None:
    found = mean_reversion.run(
        snapshot(
            {
                "A/USDT": candles(zigzag(80, 0.1)),
                "B/USDT": flat_then_selloff(),
                "C/USDT": candles(zigzag(20, 0.1)),
            }
        )
    )
    assert [o.symbol for o in found.opportunities] == ["B/USDT"]
    assert_accounted(found, ["A/USDT", "B/USDT", "C/USDT"])
    assert skip_of(found, "A/USDT").code == "no_signal"
    assert skip_of(found, "C/USDT").message == "20 of 21 hourly candles"
