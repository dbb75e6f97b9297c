"""Generated market data with a known edge, and a rule that trades it.

Prices follow a driftless log random walk, built from 12 sub-steps per hour so
each bar's high and low are real path extremes. At random "marker" hours the
volume jumps and the price drifts upward for the next MARKER_DRIFT_BARS hours:
a long taken on a marker has a better chance of reaching its target than the
random walk alone gives, a short a worse one. The rule sees only the past.
"""

from __future__ import annotations

import numpy as np

from strategies.findings import Findings
from strategies.market_data import MarketSnapshot
from strategies.opportunity import Opportunity, make_opportunity

HOUR_MS = 3_600_000
START_MS = 1_700_000_000_000 // HOUR_MS * HOUR_MS
SUBSTEPS = 12
SIGMA_PER_HOUR = 0.01
MARKER_PROBABILITY = 0.04
MARKER_DRIFT_BARS = 24
MARKER_DRIFT_PER_HOUR = 0.004  # 0.4 sigma an hour: a strong, known edge
BASE_VOLUME = 1000.0
MARKER_VOLUME = 4.0
# The rule: long after a volume spike, short every SHORT_EVERY hours otherwise.
VOLUME_SPIKE = 2.0
VOLUME_WINDOW = 50
SHORT_EVERY = 7
RISK_REWARDS = (0.5, 1.0, 2.0, 4.0)
STOP_DISTANCE = 0.02
HORIZON, HORIZON_BARS = "2 days", 48
SOURCE = "edge-generated"


def candles(rng: np.random.Generator, bars: int) -> np.ndarray:
    markers = rng.random(bars) < MARKER_PROBABILITY
    drift = np.zeros(bars)
    for index in np.flatnonzero(markers):
        drift[index + 1 : index + 1 + MARKER_DRIFT_BARS] = MARKER_DRIFT_PER_HOUR
    steps = rng.normal(0.0, SIGMA_PER_HOUR / np.sqrt(SUBSTEPS), (bars, SUBSTEPS))
    steps += (drift / SUBSTEPS)[:, None]
    log_path = np.log(100.0) + np.cumsum(steps.ravel()).reshape(bars, SUBSTEPS)
    prices = np.exp(log_path)
    close = prices[:, -1]
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(prices.max(axis=1), open_)
    low = np.minimum(prices.min(axis=1), open_)
    volume = np.where(markers, BASE_VOLUME * MARKER_VOLUME, BASE_VOLUME)
    stamps = START_MS + HOUR_MS * np.arange(bars)
    return np.column_stack([stamps, open_, high, low, close, volume])


def snapshot(seed: int, symbols: int, bars: int) -> MarketSnapshot:
    rng = np.random.default_rng(seed)
    series = {f"E{i}/USDT": candles(rng, bars) for i in range(symbols)}
    return MarketSnapshot(
        source=SOURCE,
        as_of_ms=int(START_MS + HOUR_MS * (bars - 1)),
        symbols=tuple(series),
        candles_1h=series,
        markets={s: {"taker": 0.0005} for s in series},
    )


def idea(symbol: str, table: np.ndarray, direction: int) -> Opportunity:
    entry = float(table[-1, 4])
    hour = int(table[-1, 0] // HOUR_MS)
    risk_reward = RISK_REWARDS[hour % len(RISK_REWARDS)]
    stop = entry * (1 - direction * STOP_DISTANCE)
    target = entry * (1 + direction * STOP_DISTANCE * risk_reward)
    return make_opportunity(
        strategy="edge",
        symbol=symbol,
        side="long" if direction > 0 else "short",
        entry=entry,
        stop=stop,
        target=target,
        confidence=0.5,
        horizon=HORIZON,
        horizon_bars=HORIZON_BARS,
        rationale="constructed",
        data_source=SOURCE,
        as_of="",
    )


def rule(snapshot: MarketSnapshot) -> Findings:
    found = []
    for symbol, table in snapshot.candles_1h.items():
        if len(table) <= VOLUME_WINDOW:
            continue
        volume = table[-VOLUME_WINDOW - 1 : -1, 5]
        if table[-1, 5] > VOLUME_SPIKE * float(np.median(volume)):
            found.append(idea(symbol, table, 1))
        elif int(table[-1, 0] // HOUR_MS) % SHORT_EVERY == 0:
            found.append(idea(symbol, table, -1))
    return Findings(opportunities=found, evaluated=len(snapshot.candles_1h))
