"""Generate the bundled, synthetic market-data snapshot (run once; output committed).

No public package ships such crypto data, so it is simulated, seeded and
reproducible: a market factor with per-coin betas, volatility clustering
(GARCH(1,1)), regime switches, two planted cointegrated pairs, perp prices with a
premium and funding tied to that premium. Every opportunity found on it says
`data_source: "bundled-synthetic"`.

    python scripts/generate_market_data.py  # writes strategies/data/bundled.npz
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEED = 20261124
SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "LINK", "LTC")
START_PRICES = (42000.0, 2300.0, 60.0, 310.0, 0.62, 0.55, 0.085, 22.0, 14.5, 72.0)
BETAS = (1.0, 1.15, 1.5, 0.8, 1.1, 1.2, 1.4, 1.45, 1.25, 0.95)
HOURS = 365 * 24
FIVE_MIN_BARS = 14 * 24 * 12
FUNDING_EVERY_H = 8
END_MS = 1_764_547_200_000  # 2025-12-01T00:00:00Z: the snapshot's as-of time
HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
# GARCH(1,1) parameters of hourly idiosyncratic returns: persistent clustering.
GARCH_OMEGA, GARCH_ALPHA, GARCH_BETA = 2e-7, 0.08, 0.90
# Market regimes: (drift per hour, volatility multiplier), switched by a Markov chain.
REGIMES = ((0.00012, 0.8), (-0.00015, 1.4), (0.0, 0.5))
REGIME_STAY_P = 0.998
MARKET_VOL_H = 0.006
# Planted cointegrated pairs: (follower, leader, hedge ratio, mean-reversion speed per hour).
COINTEGRATED = (("LTC", "BTC", 0.9, 0.02), ("LINK", "ETH", 1.1, 0.03))
OUT = Path(__file__).resolve().parents[1] / "strategies" / "data" / "bundled.npz"


def market_returns(rng: np.random.Generator) -> np.ndarray:
    regime, out = 0, np.empty(HOURS)
    for t in range(HOURS):
        if rng.random() > REGIME_STAY_P:
            regime = int(rng.integers(len(REGIMES)))
        drift, vol = REGIMES[regime]
        out[t] = drift + vol * MARKET_VOL_H * rng.standard_normal()
    return out


def garch_noise(rng: np.random.Generator) -> np.ndarray:
    var, out = GARCH_OMEGA / (1 - GARCH_ALPHA - GARCH_BETA), np.empty(HOURS)
    shock = 0.0
    for t in range(HOURS):
        var = GARCH_OMEGA + GARCH_ALPHA * shock**2 + GARCH_BETA * var
        shock = np.sqrt(var) * rng.standard_normal()
        out[t] = shock
    return out


def log_closes(rng: np.random.Generator) -> dict[str, np.ndarray]:
    market = market_returns(rng)
    closes = {}
    for symbol, start, beta in zip(SYMBOLS, START_PRICES, BETAS, strict=True):
        closes[symbol] = np.log(start) + np.cumsum(beta * market + garch_noise(rng))
    for follower, leader, ratio, speed in COINTEGRATED:
        anchor = closes[follower][0] - ratio * closes[leader][0]
        spread = np.zeros(HOURS)
        for t in range(1, HOURS):
            spread[t] = (1 - speed) * spread[t - 1] + 0.004 * rng.standard_normal()
        closes[follower] = anchor + ratio * closes[leader] + spread
    return closes


def ohlcv(rng: np.random.Generator, log_close: np.ndarray, end_ms: int, step_ms: int) -> np.ndarray:
    close = np.exp(log_close)
    open_ = np.concatenate([[close[0]], close[:-1]])
    wiggle = (
        np.abs(rng.standard_normal((2, close.size)))
        * np.abs(np.diff(log_close, prepend=log_close[0])).mean()
    )
    high = np.maximum(open_, close) * (1 + wiggle[0])
    low = np.minimum(open_, close) * (1 - wiggle[1])
    volume = np.exp(rng.normal(10, 0.5, close.size)) * (
        1 + 20 * np.abs(np.diff(log_close, prepend=log_close[0]))
    )
    stamps = end_ms - step_ms * np.arange(close.size)[::-1]
    return np.column_stack([stamps, open_, high, low, close, volume])


def five_minute(rng: np.random.Generator, hourly_close: float) -> np.ndarray:
    steps = 0.0015 * rng.standard_normal(FIVE_MIN_BARS)
    log_close = np.log(hourly_close) - steps.sum() + np.cumsum(steps)
    return ohlcv(rng, log_close, END_MS, FIVE_MIN_MS)


def perp_and_funding(rng: np.random.Generator, spot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    premium = np.zeros(HOURS)
    for t in range(1, HOURS):
        premium[t] = 0.97 * premium[t - 1] + 0.00025 * rng.standard_normal() + 0.00001
    perp = spot * (1 + premium)
    every = np.arange(FUNDING_EVERY_H - 1, HOURS, FUNDING_EVERY_H)
    rates = np.clip(
        np.array([premium[max(0, t - 7) : t + 1].mean() for t in every]) / 3, -0.0075, 0.0075
    )
    stamps = END_MS - HOUR_MS * (HOURS - 1 - every)
    return perp, np.column_stack([stamps, rates])


def main() -> None:
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    for symbol, log_close in log_closes(rng).items():
        bars = ohlcv(rng, log_close, END_MS, HOUR_MS)
        arrays[f"h1/{symbol}"] = bars
        perp, funding = perp_and_funding(rng, bars[:, 4])
        arrays[f"perp/{symbol}"] = np.column_stack([bars[:, 0], perp])
        arrays[f"funding/{symbol}"] = funding
        if symbol in ("BTC", "ETH"):
            arrays[f"m5/{symbol}"] = five_minute(rng, bars[-1, 4])
    meta = {
        "as_of_ms": END_MS,
        "step_ms": {
            "h1": HOUR_MS,
            "m5": FIVE_MIN_MS,
            "perp": HOUR_MS,
            "funding": FUNDING_EVERY_H * HOUR_MS,
        },
        "markets": {
            f"{s}/USDT": {
                "symbol": f"{s}/USDT",
                "base": s,
                "quote": "USDT",
                "precision": {"price": float(f"{p / 1e5:.2g}"), "amount": 1e-4},
                "limits": {"amount": {"min": 1e-4}},
                "maker": 0.001,
                "taker": 0.001,
            }
            for s, p in zip(SYMBOLS, START_PRICES, strict=True)
        },
        "holdings": {"BTC/USDT": 0.5, "ETH/USDT": 6.0, "SOL/USDT": 120.0, "LINK/USDT": 400.0},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Timestamps are regular, so only prices are stored, as float32 (7 significant
    # digits, finer than any tick here); the provider rebuilds the ms column.
    stored = {
        name: (a if name == "meta" else a[:, 1:].astype(np.float32)) for name, a in arrays.items()
    }
    np.savez_compressed(OUT, **stored)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
