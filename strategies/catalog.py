"""The production strategies, in catalogue order."""

from __future__ import annotations

from strategies import breakout, mean_reversion, trend_momentum
from strategies.registry import StrategySpec

CATALOG: tuple[StrategySpec, ...] = (
    StrategySpec(
        trend_momentum.NAME, "EMA20/50 trend with a MACD cross and ADX > 20", trend_momentum.run
    ),
    StrategySpec(
        mean_reversion.NAME, "Bollinger (20, 2) extreme with RSI14 confirmation", mean_reversion.run
    ),
    StrategySpec(
        breakout.NAME, "Bollinger squeeze then a Donchian breakout on volume", breakout.run
    ),
)
