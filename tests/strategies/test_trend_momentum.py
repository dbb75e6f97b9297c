import numpy as np
import pytest

from strategies import indicators as ind
from strategies.findings import insufficient
from strategies.rules import trend_momentum
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
)


def uptrend_then_fresh_cross() -> np.ndarray:
    """A steady rise, a short dip, then a rise cut at the bar the MACD histogram turns positive."""
    closes = path((200, 0.3), (12, -0.2), (30, 0.4))
    histogram = ind.macd_histogram(closes)
    dip_end = 201 + 12
    cross = dip_end + int(np.argmax(histogram[dip_end:] > 0))
    return candles(closes[: cross + 1])


def test_fires_long_with_atr_levels() -> None:
    bars = uptrend_then_fresh_cross()
    found = trend_momentum.evaluate("AAA/USDT", bars, source=SOURCE)
    assert found is not None
    entry = bars[-1, 4]
    # Every step is within the half range, so each true range is exactly 1 and ATR is 1.
    assert wilder_atr(bars)[-1] == pytest.approx(1.0)
    assert found.side == "long"
    assert found.entry == pytest.approx(entry)
    assert found.stop == pytest.approx(entry - 2.0)
    assert found.target == pytest.approx(entry + 3.0)
    assert found.risk_reward == pytest.approx(1.5)
    assert found.expected_return == pytest.approx(3.0 / entry, abs=1e-6)
    strength = ind.adx(bars[:, 2], bars[:, 3], bars[:, 4])[-1]
    assert strength > 20
    assert found.confidence == pytest.approx(0.4 + 0.6 * min(1.0, (strength - 20) / 30), abs=1e-4)
    assert "ADX14" in found.rationale and found.data_source == SOURCE
    assert_well_formed(found)


def test_fires_short_on_the_mirror_image() -> None:
    bars = uptrend_then_fresh_cross()
    mirrored = bars.copy()
    mirrored[:, 1:5] = 400.0 - bars[:, 1:5]
    mirrored[:, [2, 3]] = mirrored[:, [3, 2]]  # high and low swap under the mirror
    found = trend_momentum.evaluate("AAA/USDT", mirrored, source=SOURCE)
    assert found is not None
    entry = mirrored[-1, 4]
    assert found.side == "short"
    assert found.stop == pytest.approx(entry + 2.0)
    assert found.target == pytest.approx(entry - 3.0)
    assert_well_formed(found)


def test_silent_without_a_fresh_cross() -> None:
    steady = candles(path((300, 0.3)))  # trending, but the histogram has been positive for ages
    assert_quiet(
        trend_momentum.evaluate("AAA/USDT", steady, source=SOURCE),
        "no MACD histogram cross in the last 3 bars",
    )


def test_silent_when_adx_shows_no_trend() -> None:
    bars = uptrend_then_fresh_cross()
    strict = trend_momentum.Params(adx_min=99.0)
    assert_quiet(trend_momentum.evaluate("AAA/USDT", bars, source=SOURCE, params=strict), "<= 99")


def test_run_scans_every_symbol() -> None:
    found = trend_momentum.run(
        snapshot(
            {
                "A/USDT": uptrend_then_fresh_cross(),
                "B/USDT": candles(path((300, 0.3))),
                "C/USDT": candles(path((76, 0.3))),
            }
        )
    )
    assert [o.symbol for o in found.opportunities] == ["A/USDT"]
    assert_accounted(found, ["A/USDT", "B/USDT", "C/USDT"])
    assert skip_of(found, "B/USDT").code == "no_signal"
    assert skip_of(found, "C/USDT") == insufficient("C/USDT", 77, 78)
    assert skip_of(found, "C/USDT").message == "77 of 78 hourly candles"
