"""Generate the bundled market-data snapshot: a synthetic year drawn from the
stochastic model of docs/bundled-data.md, seeded, with no pattern planted for
any strategy (run once; the output is committed).

- a market factor: a three-state Markov chain of drift/volatility regimes,
  GARCH(1,1) volatility, an intraday volatility cycle and compound-Poisson jumps;
- each coin: its beta on the factor plus its own GARCH(1,1) noise and jumps;
- three cointegrated pairs: the follower's log price is a hedge ratio times its
  leader's plus an Ornstein-Uhlenbeck spread of known half-life;
- five-minute steps inside every hour; each five-minute bar's high and low are
  the exact extremes of a Brownian bridge between its ends, printed at the ask
  and the bid of a spread that widens with volatility; hourly bars aggregate them;
- volume with a persistent level, higher with volatility and with each move;
- a perpetual premium that mean-reverts to its regime's level and rises with the
  coin's own returns, and 8-hourly funding by the usual exchange formula.

Every opportunity found on it says ``data_source: "bundled-synthetic"``.

    python -m scripts.generate_market_data  # writes strategies/data/bundled.npz
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scripts import market_model as mm

GENERATOR_VERSION = 2  # bump when the model changes: the file's meta records it
SEED = 20261204
QUOTE = "USDT"
HOURS = 365 * 24
FIVE_MIN_HOURS = 14 * 24  # the five-minute series kept: the last two weeks
FIVE_MIN_COINS = ("BTC", "ETH")
FUNDING_EVERY_H = 8
END_MS = 1_764_547_200_000  # 2025-12-01T00:00:00Z: the snapshot's as-of time
HOUR_MS = 3_600_000
FIVE_MIN_MS = HOUR_MS // mm.SUBSTEPS
BPS = 1e-4


@dataclass(frozen=True)
class Coin:
    base: str
    start_price: float
    beta: float  # loading on the market factor (a follower's: hedge ratio x its leader's)
    idio_sigma_h: float  # long-run hourly sigma of its own noise (0 for a pair's follower)
    dollar_volume_h: float  # typical hourly traded value
    tick: float  # price step (ccxt precision.price)
    spread_bps: float  # typical full bid-ask spread at typical volatility


@dataclass(frozen=True)
class Cointegrated:
    follower: str
    leader: str
    hedge_ratio: float  # log follower = a + ratio * log leader + spread
    half_life_h: float  # of the Ornstein-Uhlenbeck spread
    spread_sd: float  # its stationary standard deviation (log points)


COINS = (
    Coin("BTC", 42000.0, 1.00, 0.0015, 2e7, 0.01, 1.0),
    Coin("ETH", 2300.0, 1.10, 0.0025, 1e7, 0.01, 1.5),
    Coin("SOL", 60.0, 1.40, 0.0040, 4e6, 0.001, 3.0),
    Coin("BNB", 310.0, 0.80, 0.0025, 2e6, 0.01, 3.0),
    Coin("XRP", 0.62, 1.10, 0.0035, 3e6, 0.0001, 3.0),
    Coin("ADA", 0.55, 1.20, 0.0035, 1e6, 0.0001, 5.0),
    Coin("DOGE", 0.085, 1.30, 0.0045, 2e6, 0.00001, 4.0),
    Coin("AVAX", 22.0, 1.40 * 1.2, 0.0, 8e5, 0.001, 6.0),
    Coin("LINK", 14.5, 1.10 * 1.1, 0.0, 7e5, 0.001, 6.0),
    Coin("LTC", 72.0, 1.00 * 0.9, 0.0, 6e5, 0.01, 5.0),
)
# Half-lives from easy to hard to detect in the 30 days pairs trading looks at; each
# spread's hourly innovation is about 0.25 % (sd = 0.0025 / sqrt(1 - phi_hour^2)), so
# the followers are not noisier than their leaders.
PAIRS = (
    Cointegrated("AVAX", "SOL", 1.2, 48.0, 0.015),
    Cointegrated("LINK", "ETH", 1.1, 24.0, 0.011),
    Cointegrated("LTC", "BTC", 0.9, 12.0, 0.008),
)
# Market regimes: calm most of the time, bull runs of weeks, shorter violent bears.
REGIMES = (
    mm.Regime("calm", drift_h=0.0, vol_multiplier=0.7, mean_days=30.0, premium=2 * BPS),
    mm.Regime("bull", drift_h=1.0e-4, vol_multiplier=1.0, mean_days=20.0, premium=8 * BPS),
    mm.Regime("bear", drift_h=-2.0e-4, vol_multiplier=1.5, mean_days=10.0, premium=-4 * BPS),
)
# Where a regime goes when it ends (rows: from calm, bull, bear).
REGIME_EXITS = np.array([[0.0, 0.6, 0.4], [0.7, 0.0, 0.3], [0.8, 0.2, 0.0]])
MARKET_SIGMA_H = 0.0045  # the factor's long-run hourly sigma before the regime multiplier
GARCH_ALPHA, GARCH_BETA = 0.06, 0.92  # persistence 0.98: a shock's variance halves in ~35 h
# Volatility peaks with the US session (15:00 UTC), a third above the night's.
INTRADAY_AMPLITUDE, INTRADAY_PEAK_UTC = 0.15, 15.0
# Jumps: a market-wide one every ~15 days (crashes a little likelier than spikes),
# and one of a coin's own every ~30 days.
MARKET_JUMPS_PER_H, MARKET_JUMP_MEAN, MARKET_JUMP_SD = 1 / (15 * 24), -0.005, 0.025
COIN_JUMPS_PER_H, COIN_JUMP_SD = 1 / (30 * 24), 0.03
# Spreads widen with volatility: spread ~ (sigma / median sigma) ** this.
SPREAD_VOL_ELASTICITY = 0.7
# Volume: a persistent level (AR(1), half-life 12 h, stationary sd 0.4 in logs), a
# volatility elasticity, a boost per sigma of each five-minute move, lognormal noise.
VOLUME_HALF_LIFE_H, VOLUME_LEVEL_SD = 12.0, 0.4
VOLUME_VOL_ELASTICITY, VOLUME_PER_SIGMA, VOLUME_NOISE_SD = 1.0, 0.5, 0.3
# Perpetual premium: half-life 8 h, +2 % of the coin's hourly return, 1 bp/h noise.
PREMIUM_HALF_LIFE_H, PREMIUM_RETURN_SENSITIVITY, PREMIUM_NOISE = 8.0, 0.02, 1 * BPS
# Funding every 8 h: premium + clamp(0.01 % - premium, +-0.05 %), capped at +-0.75 %.
FUNDING_INTEREST, FUNDING_CLAMP, FUNDING_CAP = 1 * BPS, 5 * BPS, 75 * BPS
# A VIP/market-maker fee tier (a retail tier is about 0.1 % both ways).
MAKER_FEE, TAKER_FEE = 0.0002, 0.0005
LOT = 1e-4  # amount step and minimum of every market
HOLDINGS = {
    "BTC/USDT": 0.3,
    "ETH/USDT": 5.0,
    "SOL/USDT": 150.0,
    "LINK/USDT": 500.0,
    "AVAX/USDT": 300.0,
}
OUT = Path(__file__).resolve().parents[1] / "strategies" / "data" / "bundled.npz"


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per model component: changing one component's
    draws leaves every other component's numbers as they were."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Paths:
    """The simulated mid prices and what the bars are printed from."""

    log_mid: np.ndarray  # (HOURS * SUBSTEPS + 1, n): log mid at every five-minute boundary
    step_variance: np.ndarray  # (HOURS, n): diffusion variance of one five-minute step
    regimes: np.ndarray  # (HOURS,): regime index of every hour


def hour_of_day() -> np.ndarray:
    """UTC hour of each hourly bar (a bar is stamped at its end)."""
    return np.asarray((stamps(HOURS, HOUR_MS) // HOUR_MS).astype(np.int64) % mm.HOURS_PER_DAY)


def stamps(count: int, step_ms: int) -> np.ndarray:
    return (END_MS - step_ms * np.arange(count)[::-1]).astype(np.float64)


def garch_steps(rng: np.random.Generator, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Five-minute Normal steps (HOURS, SUBSTEPS) whose hourly sigma is ``scale`` times a
    unit GARCH(1,1) sigma driven by the hour's own standardised return; and that sigma."""
    normals = rng.standard_normal((HOURS, mm.SUBSTEPS))
    hourly_shocks = normals.sum(axis=1, keepdims=True) / np.sqrt(mm.SUBSTEPS)
    sigma_h = scale * mm.garch_unit_sigmas(hourly_shocks, GARCH_ALPHA, GARCH_BETA)[:, 0]
    return sigma_h[:, None] * normals / np.sqrt(mm.SUBSTEPS), sigma_h


def market_factor(seed: int, cycle: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five-minute factor returns (HOURS, SUBSTEPS), its hourly sigma, the regimes."""
    rng = stream(seed, "market")
    regimes = mm.regime_path(rng, mm.transition_matrix(REGIMES, REGIME_EXITS), HOURS)
    drift = np.array([r.drift_h for r in REGIMES])[regimes]
    scale = np.array([r.vol_multiplier for r in REGIMES])[regimes]
    diffusion, sigma_h = garch_steps(rng, MARKET_SIGMA_H * scale * cycle)
    jumps = mm.compound_poisson(rng, HOURS, MARKET_JUMPS_PER_H, MARKET_JUMP_MEAN, MARKET_JUMP_SD)
    return drift[:, None] / mm.SUBSTEPS + diffusion + jumps, sigma_h, regimes


def own_noise(seed: int, coin: Coin, cycle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A coin's own five-minute returns (HOURS, SUBSTEPS) and their hourly sigma."""
    rng = stream(seed, f"coin/{coin.base}")
    diffusion, sigma_h = garch_steps(rng, coin.idio_sigma_h * cycle)
    jumps = mm.compound_poisson(rng, HOURS, COIN_JUMPS_PER_H, 0.0, COIN_JUMP_SD)
    return diffusion + jumps, sigma_h


def simulate(seed: int) -> Paths:
    """Log mids of every coin at every five-minute boundary of the year."""
    cycle = mm.intraday_profile(hour_of_day(), INTRADAY_AMPLITUDE, INTRADAY_PEAK_UTC)
    market, market_sigma, regimes = market_factor(seed, cycle)
    index = {coin.base: i for i, coin in enumerate(COINS)}
    steps = np.empty((HOURS, mm.SUBSTEPS, len(COINS)))
    variance = np.empty((HOURS, len(COINS)))
    followers = {pair.follower for pair in PAIRS}
    for coin in (c for c in COINS if c.base not in followers):
        own, own_sigma = own_noise(seed, coin, cycle)
        column = index[coin.base]
        steps[:, :, column] = coin.beta * market + own
        variance[:, column] = ((coin.beta * market_sigma) ** 2 + own_sigma**2) / mm.SUBSTEPS
    for pair in PAIRS:
        follower, leader = index[pair.follower], index[pair.leader]
        spread_steps, spread_variance = spread_changes(seed, pair)
        steps[:, :, follower] = pair.hedge_ratio * steps[:, :, leader] + spread_steps
        variance[:, follower] = pair.hedge_ratio**2 * variance[:, leader] + spread_variance
    flat = steps.reshape(HOURS * mm.SUBSTEPS, len(COINS))
    starts = np.log([coin.start_price for coin in COINS])
    log_mid = np.vstack([starts, starts + np.cumsum(flat, axis=0)])
    return Paths(log_mid, variance, regimes)


def spread_changes(seed: int, pair: Cointegrated) -> tuple[np.ndarray, float]:
    """Five-minute changes (HOURS, SUBSTEPS) of the pair's OU spread (started at 0),
    and the variance of one step's shock."""
    rng = stream(seed, f"pair/{pair.follower}~{pair.leader}")
    keep = mm.persistence_of(pair.half_life_h * mm.SUBSTEPS)
    shock_variance = pair.spread_sd**2 * (1 - keep**2)
    shocks = np.sqrt(shock_variance) * rng.standard_normal((HOURS * mm.SUBSTEPS, 1))
    spread = mm.ar1(shocks, keep)[:, 0]
    return np.diff(spread, prepend=0.0).reshape(HOURS, mm.SUBSTEPS), shock_variance


def half_spreads(paths: Paths) -> np.ndarray:
    """Half the bid-ask spread of every coin and hour: its typical spread, wider when
    the hour is more volatile than the coin's median hour."""
    sigma = np.sqrt(paths.step_variance)
    typical = np.array([coin.spread_bps for coin in COINS]) * BPS / 2
    return np.asarray(typical * (sigma / np.median(sigma, axis=0)) ** SPREAD_VOL_ELASTICITY)


def volumes(seed: int, paths: Paths, cycle: np.ndarray) -> np.ndarray:
    """Traded quantity of every five-minute step (coin units)."""
    rng = stream(seed, "volume")
    n = len(COINS)
    keep = mm.persistence_of(VOLUME_HALF_LIFE_H)
    level_shocks = VOLUME_LEVEL_SD * np.sqrt(1 - keep**2) * rng.standard_normal((HOURS, n))
    sigma = np.sqrt(paths.step_variance)
    hourly = (
        np.exp(mm.ar1(level_shocks, keep))
        * (sigma / np.median(sigma, axis=0)) ** VOLUME_VOL_ELASTICITY
        * (cycle**2)[:, None]
    )
    moves = np.abs(np.diff(paths.log_mid, axis=0)) / np.repeat(sigma, mm.SUBSTEPS, axis=0)
    noise = rng.lognormal(0.0, VOLUME_NOISE_SD, moves.shape)
    # The multipliers' means (a lognormal level and noise, |N(0,1)| moves) divided out,
    # so a coin trades about its dollar_volume_h an hour.
    norm = np.exp(VOLUME_LEVEL_SD**2 / 2 + VOLUME_NOISE_SD**2 / 2) * (
        1 + VOLUME_PER_SIGMA * np.sqrt(2 / np.pi)
    )
    dollars = np.array([coin.dollar_volume_h for coin in COINS]) / mm.SUBSTEPS
    value = dollars * np.repeat(hourly, mm.SUBSTEPS, axis=0) * (1 + VOLUME_PER_SIGMA * moves)
    return np.asarray(value * noise / norm / np.exp(paths.log_mid[1:]))


def on_ticks(prices: np.ndarray, rounding: np.ufunc) -> np.ndarray:
    ticks = np.array([coin.tick for coin in COINS])
    return np.asarray(rounding(prices / ticks) * ticks)


def five_minute_bars(seed: int, paths: Paths, cycle: np.ndarray) -> np.ndarray:
    """(steps, coins, 5) o h l c v: closes at the bid or the ask of the step's end mid,
    highs and lows the Brownian bridge's extremes at the ask and the bid, on ticks."""
    rng = stream(seed, "prints")
    start, end = paths.log_mid[:-1], paths.log_mid[1:]
    variance = np.repeat(paths.step_variance, mm.SUBSTEPS, axis=0)
    high, low = mm.bridge_extremes(rng, start, end, variance)
    half = np.repeat(half_spreads(paths), mm.SUBSTEPS, axis=0)
    close = on_ticks(np.exp(end) * (1 + half * rng.choice((-1.0, 1.0), size=end.shape)), np.rint)
    open_ = np.vstack([on_ticks(np.exp(paths.log_mid[:1]), np.rint), close[:-1]])
    high = on_ticks(np.maximum(np.exp(high) * (1 + half), np.maximum(open_, close)), np.ceil)
    low = on_ticks(np.minimum(np.exp(low) * (1 - half), np.minimum(open_, close)), np.floor)
    return np.stack([open_, high, low, close, volumes(seed, paths, cycle)], axis=-1)


def hourly_bars(five: np.ndarray) -> np.ndarray:
    """(HOURS, coins, 5) aggregated from the five-minute bars (each hour ends on its 12th)."""
    groups = five.reshape(HOURS, mm.SUBSTEPS, *five.shape[1:])
    return np.stack(
        [
            groups[:, 0, :, 0],
            groups[:, :, :, 1].max(axis=1),
            groups[:, :, :, 2].min(axis=1),
            groups[:, -1, :, 3],
            groups[:, :, :, 4].sum(axis=1),
        ],
        axis=-1,
    )


def perp_and_funding(seed: int, paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Hourly perpetual closes (HOURS, coins) and 8-hourly funding rates (HOURS / 8, coins)."""
    rng = stream(seed, "perpetuals")
    log_close = paths.log_mid[:: mm.SUBSTEPS]
    betas = np.array([coin.beta for coin in COINS])
    means = np.array([regime.premium for regime in REGIMES])[paths.regimes][:, None] * betas
    premium = mm.premium_path(rng, np.diff(log_close, axis=0), means, PREMIUM_HALF_LIFE_H,
                              PREMIUM_RETURN_SENSITIVITY, PREMIUM_NOISE)  # fmt: skip
    perp = on_ticks(np.exp(log_close[1:]) * (1 + premium), np.rint)
    funding = mm.funding_rates(premium, FUNDING_EVERY_H, FUNDING_INTEREST, FUNDING_CLAMP,
                               FUNDING_CAP)  # fmt: skip
    return perp, funding


def dataset(seed: int = SEED) -> dict[str, np.ndarray]:
    """Every stored series, as the archive holds it: float32 values without the time
    column (timestamps are regular; the provider rebuilds them from the meta)."""
    paths = simulate(seed)
    cycle = mm.intraday_profile(hour_of_day(), INTRADAY_AMPLITUDE, INTRADAY_PEAK_UTC)
    five = five_minute_bars(seed, paths, cycle)
    hourly = hourly_bars(five)
    perp, funding = perp_and_funding(seed, paths)
    arrays: dict[str, np.ndarray] = {}
    for i, coin in enumerate(COINS):
        arrays[f"h1/{coin.base}"] = hourly[:, i]
        if coin.base in FIVE_MIN_COINS:
            arrays[f"m5/{coin.base}"] = five[-FIVE_MIN_HOURS * mm.SUBSTEPS :, i]
        arrays[f"perp/{coin.base}"] = perp[:, i : i + 1]
        arrays[f"funding/{coin.base}"] = funding[:, i : i + 1]
    return {name: values.astype(np.float32) for name, values in arrays.items()}


def market(coin: Coin) -> dict[str, object]:
    """ccxt's market structure, reduced to what the strategies read."""
    return {
        "id": f"{coin.base}{QUOTE}",
        "symbol": f"{coin.base}/{QUOTE}",
        "base": coin.base,
        "quote": QUOTE,
        "type": "spot",
        "spot": True,
        "active": True,
        "maker": MAKER_FEE,
        "taker": TAKER_FEE,
        "precision": {"price": coin.tick, "amount": LOT},
        "limits": {"amount": {"min": LOT}, "cost": {"min": 5.0}},
    }


def meta(seed: int = SEED) -> dict[str, object]:
    return {
        "as_of_ms": END_MS,
        "step_ms": {
            "h1": HOUR_MS,
            "m5": FIVE_MIN_MS,
            "perp": HOUR_MS,
            "funding": FUNDING_EVERY_H * HOUR_MS,
        },
        "markets": {f"{coin.base}/{QUOTE}": market(coin) for coin in COINS},
        "holdings": HOLDINGS,
        # What made this file: regenerating with this version and seed gives it again.
        "generator": {
            "script": "scripts/generate_market_data.py",
            "version": GENERATOR_VERSION,
            "seed": seed,
            "synthetic": True,
            "model": "docs/bundled-data.md",
        },
    }


def write(path: Path = OUT, seed: int = SEED) -> None:
    stored: dict[str, np.ndarray] = dataset(seed)
    stored["meta"] = np.frombuffer(json.dumps(meta(seed)).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **stored)  # type: ignore[arg-type]  # numpy's stub types **kwds poorly


def main() -> None:
    write()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
