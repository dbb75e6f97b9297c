"""The production strategies, in catalogue order."""

from __future__ import annotations

from strategies.registry import StrategySpec
from strategies.rules import (
    breakout,
    cross_sectional_momentum,
    funding_carry,
    grid,
    hedging,
    market_making,
    mean_reversion,
    pairs_trading,
    portfolio_optimization,
    risk_management,
    scalping,
    swing,
    trend_momentum,
    volatility_regime,
)

# Per-symbol and portfolio rules take milliseconds on the bundled year; 5 s is
# ample headroom for a slow host or a files source with many symbols, yet short
# enough that a stuck rule cannot hold a scan.
RULE_TIMEOUT_S = 5.0
# Pairs trading tests every pair of symbols, so its cost grows with the square
# of the universe: 45 pairs for the bundled ten, 1,225 for fifty.
PAIRS_TIMEOUT_S = 15.0

CATALOG: tuple[StrategySpec, ...] = (
    StrategySpec(
        trend_momentum.NAME,
        "EMA20/50 trend with a fresh MACD cross and ADX14 > 20",
        trend_momentum.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        cross_sectional_momentum.NAME,
        "long the best, short the worst 30-day risk-adjusted returns",
        cross_sectional_momentum.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        mean_reversion.NAME,
        "Bollinger (20, 2) extreme with RSI14 confirmation",
        mean_reversion.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        breakout.NAME,
        "Bollinger squeeze then a Donchian breakout on volume",
        breakout.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        scalping.NAME,
        "5-minute VWAP cross with EMA9/21 when costs are small against ATR",
        scalping.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        swing.NAME,
        "daily pullback to EMA50 above EMA200 with RSI turning up",
        swing.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        pairs_trading.NAME,
        "Engle-Granger cointegrated pairs at a 2-sigma spread",
        pairs_trading.run,
        PAIRS_TIMEOUT_S,
    ),
    StrategySpec(
        funding_carry.NAME,
        "long spot / short perp when funding or the premium pays",
        funding_carry.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        market_making.NAME,
        "two-sided quotes where the estimated spread beats fees",
        market_making.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        volatility_regime.NAME,
        "brackets around very quiet markets (Garman-Klass percentile)",
        volatility_regime.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        grid.NAME, "fee-clearing grid inside a ranging 100-bar channel", grid.run, RULE_TIMEOUT_S
    ),
    StrategySpec(
        portfolio_optimization.NAME,
        "rebalance holdings toward minimum-variance weights",
        portfolio_optimization.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        risk_management.NAME,
        "VaR/CVaR, drawdown and correlation checks on the holdings",
        risk_management.run,
        RULE_TIMEOUT_S,
    ),
    StrategySpec(
        hedging.NAME,
        "short BTC perp when the holdings' beta exceeds its limit",
        hedging.run,
        RULE_TIMEOUT_S,
    ),
)
