"""Generate the bundled, synthetic market-data snapshot (run once; output committed).

No installable package ships a year of crypto bars, so they are simulated,
seeded and reproducible:

- a market factor with per-coin betas and Markov regime switches (bull, bear,
  quiet), plus GARCH(1,1) idiosyncratic noise, so volatility clusters;
- high/low ranges scaled by each bar's own volatility (Garman–Klass and ATR
  see the clustering) and volume rising with the size of the move;
- two planted cointegrated pairs (LTC on BTC, LINK on ETH);
- perpetual prices with an AR(1) premium, and 8-hourly funding equal to the
  premium's average over the funding interval;
- 5-minute bars for BTC and ETH over the last two weeks, as Brownian bridges
  between the hourly closes with a bid-ask bounce; the hourly bars of those two
  weeks are rebuilt from them, so both timeframes agree;
- scripted final hours ("plants", see PLANTS) for a few coins, so the as-of
  time holds a live setup for most strategies of the catalogue. It is a
  demonstration dataset; the golden test pins what each strategy finds in it.

Every opportunity found on it says ``data_source: "bundled-synthetic"``.

    python scripts/generate_market_data.py  # writes strategies/data/bundled.npz
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SEED = 20261124
SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "LINK", "LTC")
START_PRICES = (42000.0, 2300.0, 60.0, 310.0, 0.62, 0.55, 0.085, 22.0, 14.5, 72.0)
BETAS = (1.0, 1.15, 1.5, 0.8, 1.1, 1.2, 1.4, 1.45, 1.25, 0.95)
# Scale of each coin's idiosyncratic noise: BTC mostly is the market factor.
IDIO_SCALES = (0.4, 0.9, 1.2, 1.0, 1.0, 1.0, 1.3, 1.2, 1.0, 1.0)
# Typical hourly dollar volume of each coin (BTC's is a few hundred million a day).
DOLLAR_VOLUME_H = (2e7, 1e7, 4e6, 2e6, 3e6, 1e6, 2e6, 8e5, 7e5, 6e5)
# Price tick of each market (ccxt precision.price), as an exchange would list it.
TICKS = (0.01, 0.01, 0.001, 0.01, 0.0001, 0.0001, 0.00001, 0.001, 0.001, 0.01)
LOT = 1e-4  # amount step and minimum of every market
QUOTE = "USDT"
HOURS = 365 * 24
FIVE_MIN_PER_HOUR = 12
FIVE_MIN_HOURS = 14 * 24
FIVE_MIN_COINS = ("BTC", "ETH")
FUNDING_EVERY_H = 8
END_MS = 1_764_547_200_000  # 2025-12-01T00:00:00Z: the snapshot's as-of time
HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
# Market regimes: (drift per hour, volatility multiplier), switched by a Markov
# chain that stays put with probability REGIME_STAY_P (regimes last ~3 weeks).
REGIMES = ((0.00010, 0.9), (-0.00010, 1.3), (0.0, 0.6))
REGIME_STAY_P = 0.998
MARKET_VOL_H = 0.0055
# GARCH(1,1) of hourly idiosyncratic returns: long-run sigma 0.25 %, persistent clustering.
GARCH_OMEGA, GARCH_ALPHA, GARCH_BETA = 1.25e-7, 0.08, 0.90
# High/low extend beyond open/close by |N(0,1)| times this many of the bar's sigmas.
RANGE_SIGMAS = 0.6
# Volume grows by this fraction per sigma of the bar's move, around a lognormal level.
VOLUME_PER_SIGMA = 0.8
VOLUME_DISPERSION = 0.35
# Planted cointegrated pairs:
# (follower, leader, hedge ratio, mean reversion per hour, spread noise).
COINTEGRATED = (("LTC", "BTC", 0.9, 0.06, 0.003), ("LINK", "ETH", 1.1, 0.08, 0.004))
# Perp premium: AR(1) around a small positive mean (longs pay ~11 % a year).
PREMIUM_MEAN, PREMIUM_AR, PREMIUM_NOISE = 0.0001, 0.9, 0.00005
# Effective bid-ask spreads on the 5-minute bars (fraction of mid).
SPREADS_5M = {"BTC": 0.0012, "ETH": 0.0004}
# A VIP/market-maker fee tier: the fee-sensitive strategies (scalping, market
# making, grid, carry) are only viable at such tiers.
MAKER_FEE, TAKER_FEE = 0.0002, 0.0005
HOLDINGS = {
    "BTC/USDT": 0.3,
    "ETH/USDT": 5.0,
    "SOL/USDT": 150.0,
    "LINK/USDT": 500.0,
    "AVAX/USDT": 300.0,
}
OUT = Path(__file__).resolve().parents[1] / "strategies" / "data" / "bundled.npz"


@dataclass(frozen=True)
class Plant:
    """A scripted ending. Each leg (hours, drift per hour, noise scale) replaces
    that stretch's returns by drift + scale x the simulated return."""

    legs: tuple[tuple[int, float, float], ...] = ()
    last_volume_x: float = 1.0  # volume multiplier of the final bar
    premium: tuple[int, float] = (0, 0.0)  # (hours, extra perp premium) at the end
    spread_shock: tuple[int, float] = (0, 0.0)  # followers: (hours, spread ramp) at the end
    five_minute_legs: tuple[tuple[int, float], ...] = ()  # (bars, drift per bar) on the 5m mid path


PLANTS = {
    "SOL": Plant(legs=((150, 0.0025, 0.3), (14, -0.0025, 0.3), (7, 0.004, 0.3))),  # trend_momentum
    "DOGE": Plant(legs=((48, 0.0, 0.3), (6, -0.012, 0.2))),  # mean_reversion
    "AVAX": Plant(legs=((96, 0.0, 0.15), (1, 0.02, 0.5)), last_volume_x=4.0),  # breakout
    "BNB": Plant(legs=((60 * 24, 0.0003, 0.3), (3 * 24, -0.0012, 0.3), (24, 0.0005, 0.3))),  # swing
    "ADA": Plant(legs=((36, 0.0, 0.12),)),  # volatility_regime
    "XRP": Plant(premium=(72, 0.0006)),  # funding_carry
    # scalping: a volatile last 6 hours, and a 5-minute V back through VWAP at the end
    "ETH": Plant(legs=((6, 0.0, 2.0),), five_minute_legs=((24, -0.0015), (12, 0.003))),
    "LINK": Plant(spread_shock=(8, 0.022)),  # pairs_trading
}


@dataclass
class Coin:
    returns: np.ndarray  # hourly log returns
    sigma: np.ndarray  # each hour's volatility, for ranges and volume
    volume_boost: np.ndarray = field(default_factory=lambda: np.ones(HOURS))


def regime_path(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    regime, drift, vol = 0, np.empty(HOURS), np.empty(HOURS)
    switches, picks = rng.random(HOURS) > REGIME_STAY_P, rng.integers(len(REGIMES), size=HOURS)
    for t in range(HOURS):
        regime = int(picks[t]) if switches[t] else regime
        drift[t], vol[t] = REGIMES[regime]
    return drift, vol * MARKET_VOL_H


def garch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    var, shock = GARCH_OMEGA / (1 - GARCH_ALPHA - GARCH_BETA), 0.0
    shocks, sigmas, normals = np.empty(HOURS), np.empty(HOURS), rng.standard_normal(HOURS)
    for t in range(HOURS):
        var = GARCH_OMEGA + GARCH_ALPHA * shock**2 + GARCH_BETA * var
        sigmas[t] = np.sqrt(var)
        shock = sigmas[t] * normals[t]
        shocks[t] = shock
    return shocks, sigmas


def simulate(rng: np.random.Generator) -> dict[str, Coin]:
    drift, market_vol = regime_path(rng)
    market = drift + market_vol * rng.standard_normal(HOURS)
    coins = {}
    for symbol, beta, scale in zip(SYMBOLS, BETAS, IDIO_SCALES, strict=True):
        noise, idio = garch(rng)
        coins[symbol] = Coin(
            beta * market + scale * noise, np.hypot(beta * market_vol, scale * idio)
        )
    return coins


def apply_legs(coin: Coin, plant: Plant) -> None:
    end = HOURS
    for hours, drift, scale in reversed(plant.legs):
        stretch = slice(end - hours, end)
        coin.returns[stretch] = drift + scale * coin.returns[stretch]
        coin.sigma[stretch] = scale * coin.sigma[stretch] + abs(drift)
        end -= hours
    coin.volume_boost[-1] = plant.last_volume_x


def log_closes(coins: dict[str, Coin], rng: np.random.Generator) -> dict[str, np.ndarray]:
    logs = {
        s: np.log(p) + np.cumsum(coins[s].returns)
        for s, p in zip(SYMBOLS, START_PRICES, strict=True)
    }
    for follower, leader, ratio, speed, noise in COINTEGRATED:
        spread, shocks = np.zeros(HOURS), noise * rng.standard_normal(HOURS)
        for t in range(1, HOURS):
            spread[t] = (1 - speed) * spread[t - 1] + shocks[t]
        hours, shock = PLANTS.get(follower, Plant()).spread_shock
        if hours:
            spread[-hours:] += np.linspace(shock / hours, shock, hours)
        anchor = logs[follower][0] - ratio * logs[leader][0]
        logs[follower] = anchor + ratio * logs[leader] + spread
        coins[follower].returns = np.diff(
            logs[follower], prepend=np.log(START_PRICES[SYMBOLS.index(follower)])
        )
    return logs


def hourly_bars(
    rng: np.random.Generator, log_close: np.ndarray, coin: Coin, dollar_volume: float
) -> np.ndarray:
    close = np.exp(log_close)
    open_ = np.concatenate([[close[0]], close[:-1]])
    reach = np.abs(rng.standard_normal((2, HOURS))) * RANGE_SIGMAS * coin.sigma
    high = np.maximum(open_, close) * np.exp(reach[0])
    low = np.minimum(open_, close) * np.exp(-reach[1])
    activity = 1 + VOLUME_PER_SIGMA * np.abs(coin.returns) / coin.sigma
    level = rng.lognormal(0.0, VOLUME_DISPERSION, HOURS)
    volume = dollar_volume * level * activity * coin.volume_boost / close
    return np.column_stack([stamps(HOURS, HOUR_MS), open_, high, low, close, volume])


def stamps(count: int, step_ms: int) -> np.ndarray:
    return (END_MS - step_ms * np.arange(count)[::-1]).astype(np.float64)


def five_minute_bars(
    rng: np.random.Generator,
    log_close: np.ndarray,
    coin: Coin,
    spread: float,
    dollar_volume: float,
    plant: Plant,
) -> np.ndarray:
    """Brownian bridges between the last two weeks of hourly closes, with a bid-ask bounce."""
    n, k = FIVE_MIN_HOURS, FIVE_MIN_PER_HOUR
    starts, ends = log_close[-n - 1 : -1, None], log_close[-n:, None]
    sigma5 = coin.sigma[-n:, None] / np.sqrt(k)
    walk = np.cumsum(rng.standard_normal((n, k)) * sigma5, axis=1)
    fraction = np.arange(1, k + 1) / k
    mid = (starts + (ends - starts) * fraction + walk - fraction * walk[:, -1:]).ravel()
    mid += scripted_offset(mid.size, plant.five_minute_legs)
    sigma = np.repeat(sigma5.ravel(), k)
    close = np.exp(mid) * (1 + spread / 2 * rng.choice((-1.0, 1.0), size=mid.size))
    open_ = np.concatenate([[np.exp(log_close[-n - 1])], close[:-1]])
    reach = np.abs(rng.standard_normal((2, mid.size))) * RANGE_SIGMAS * sigma
    high = np.maximum(open_, close) * np.exp(reach[0]) * (1 + spread / 2)
    low = np.minimum(open_, close) * np.exp(-reach[1]) * (1 - spread / 2)
    activity = 1 + VOLUME_PER_SIGMA * np.abs(np.diff(mid, prepend=log_close[-n - 1])) / sigma
    volume = dollar_volume / k * rng.lognormal(0.0, VOLUME_DISPERSION, mid.size) * activity / close
    return np.column_stack([stamps(mid.size, FIVE_MIN_MS), open_, high, low, close, volume])


def scripted_offset(size: int, legs: tuple[tuple[int, float], ...]) -> np.ndarray:
    """A path that is 0 until the legs start, then follows their drifts to the end."""
    drifts = np.zeros(size)
    end = size
    for bars, drift in reversed(legs):
        drifts[end - bars : end] = drift
        end -= bars
    return np.cumsum(drifts)


def hours_from_five_minutes(five: np.ndarray) -> np.ndarray:
    """Hourly OHLCV aggregated from 5-minute rows (each hour closes on its 12th bar)."""
    groups = five.reshape(-1, FIVE_MIN_PER_HOUR, 6)
    return np.column_stack(
        [
            groups[:, -1, 0],
            groups[:, 0, 1],
            groups[:, :, 2].max(axis=1),
            groups[:, :, 3].min(axis=1),
            groups[:, -1, 4],
            groups[:, :, 5].sum(axis=1),
        ]
    )


def perp_and_funding(
    rng: np.random.Generator, spot_close: np.ndarray, plant: Plant
) -> tuple[np.ndarray, np.ndarray]:
    premium, noise = np.full(HOURS, PREMIUM_MEAN), PREMIUM_NOISE * rng.standard_normal(HOURS)
    for t in range(1, HOURS):
        premium[t] = PREMIUM_AR * premium[t - 1] + (1 - PREMIUM_AR) * PREMIUM_MEAN + noise[t]
    hours, extra = plant.premium
    if hours:
        premium[-hours:] += extra
    rates = premium.reshape(-1, FUNDING_EVERY_H).mean(axis=1)
    perp = np.column_stack([stamps(HOURS, HOUR_MS), spot_close * (1 + premium)])
    return perp, np.column_stack([stamps(rates.size, FUNDING_EVERY_H * HOUR_MS), rates])


def market(base: str, tick: float) -> dict[str, object]:
    """ccxt's market structure, reduced to what the strategies read."""
    return {
        "id": f"{base}{QUOTE}",
        "symbol": f"{base}/{QUOTE}",
        "base": base,
        "quote": QUOTE,
        "type": "spot",
        "spot": True,
        "active": True,
        "maker": MAKER_FEE,
        "taker": TAKER_FEE,
        "precision": {"price": tick, "amount": LOT},
        "limits": {"amount": {"min": LOT}, "cost": {"min": 5.0}},
    }


def series(rng: np.random.Generator) -> dict[str, np.ndarray]:
    coins = simulate(rng)
    for symbol, plant in PLANTS.items():
        apply_legs(coins[symbol], plant)
    logs = log_closes(coins, rng)
    arrays: dict[str, np.ndarray] = {}
    for symbol, dollar_volume in zip(SYMBOLS, DOLLAR_VOLUME_H, strict=True):
        bars = hourly_bars(rng, logs[symbol], coins[symbol], dollar_volume)
        if symbol in FIVE_MIN_COINS:
            five = five_minute_bars(
                rng,
                logs[symbol],
                coins[symbol],
                SPREADS_5M[symbol],
                dollar_volume,
                PLANTS.get(symbol, Plant()),
            )
            bars[-FIVE_MIN_HOURS:] = hours_from_five_minutes(five)
            arrays[f"m5/{symbol}"] = five
        arrays[f"h1/{symbol}"] = bars
        arrays[f"perp/{symbol}"], arrays[f"funding/{symbol}"] = perp_and_funding(
            rng, bars[:, 4], PLANTS.get(symbol, Plant())
        )
    return arrays


def main() -> None:
    arrays = series(np.random.default_rng(SEED))
    meta = {
        "as_of_ms": END_MS,
        "step_ms": {
            "h1": HOUR_MS,
            "m5": FIVE_MIN_MS,
            "perp": HOUR_MS,
            "funding": FUNDING_EVERY_H * HOUR_MS,
        },
        "markets": {
            f"{s}/{QUOTE}": market(s, tick) for s, tick in zip(SYMBOLS, TICKS, strict=True)
        },
        "holdings": HOLDINGS,
    }
    # Timestamps are regular, so only values are stored, as float32 (7 significant
    # digits, finer than any tick here); the provider rebuilds the ms column.
    stored = {name: table[:, 1:].astype(np.float32) for name, table in arrays.items()}
    stored["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **stored)  # type: ignore[arg-type]  # numpy's stub types **kwds poorly
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
