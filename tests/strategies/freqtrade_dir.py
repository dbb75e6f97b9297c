"""Data directories in freqtrade's exact layout, written from generated candles.

freqtrade (``freqtrade download-data --trading-mode futures``) writes, under
``user_data/data/<exchange>``: spot ``BTC_USDT-1h.feather``; perpetuals
``futures/BTC_USDT_USDT-1h-futures.feather``; funding
``futures/BTC_USDT_USDT-8h-funding_rate.feather`` with the rate in ``open`` and
zeros in the other price columns; feather through pandas (a ``date`` column of
type timestamp[ns, tz=UTC], lz4-compressed); json as ``[[ms, o, h, l, c, v], ...]``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from tests.strategies.synthetic import HOUR_MS, candles, path

COLUMNS = ("date", "open", "high", "low", "close", "volume")
NS_PER_MS = 1_000_000
FUNDING_STEP_MS = 8 * HOUR_MS


def write_feather(target: Path, rows: np.ndarray) -> Path:
    """As freqtrade's feather handler writes a candle DataFrame."""
    import pyarrow as pa
    from pyarrow import feather

    target.parent.mkdir(parents=True, exist_ok=True)
    stamps = pa.array(rows[:, 0].astype(np.int64) * NS_PER_MS, type=pa.timestamp("ns", tz="UTC"))
    columns = [stamps, *(pa.array(rows[:, i], type=pa.float64()) for i in range(1, 6))]
    feather.write_feather(pa.table(columns, names=list(COLUMNS)), target, compression="lz4")
    return target


def write_json(target: Path, rows: np.ndarray | list[list[float | None]]) -> Path:
    """freqtrade's json format: ``[[ms, o, h, l, c, v], ...]`` (``.json.gz`` gzipped)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    listed = rows.tolist() if isinstance(rows, np.ndarray) else rows
    text = json.dumps([[int(r[0]), *r[1:]] for r in listed])
    if target.name.endswith(".gz"):
        with gzip.open(target, "wt") as handle:
            handle.write(text)
    else:
        target.write_text(text)
    return target


def pair_candles(bars: int, start: float, drift: float, seed: int) -> np.ndarray:
    """An hourly random walk ending at the synthetic END_MS."""
    steps = np.random.default_rng(seed).normal(drift, start * 0.004, bars - 1)
    closes = np.maximum(
        path((bars - 1, 0.0), start=start) + np.concatenate([[0], np.cumsum(steps)]), start * 0.2
    )
    return candles(closes, half_range=start * 0.003)


def funding_rows(hourly: np.ndarray, seed: int) -> np.ndarray:
    """freqtrade's funding candles: [ms, rate, 0, 0, 0, 0] every 8 hours, rates of both signs."""
    stamps = hourly[hourly[:, 0] % FUNDING_STEP_MS == 0, 0]
    rates = np.random.default_rng(seed).normal(0.0001, 0.0002, len(stamps))
    rows = np.zeros((len(stamps), 6))
    rows[:, 0], rows[:, 1] = stamps, rates
    return rows


def freqtrade_directory(root: Path, bars: int = 400) -> dict[str, np.ndarray]:
    """A futures-mode freqtrade directory: BTC and ETH in feather, SOL and BNB in json,
    perpetuals and funding for BTC (feather) and ETH (json). Returns spot candles by symbol."""
    spot = {
        "BTC/USDT": pair_candles(bars, 90_000.0, 5.0, seed=1),
        "ETH/USDT": pair_candles(bars, 3_000.0, -0.2, seed=2),
        "SOL/USDT": pair_candles(bars, 150.0, 0.01, seed=3),
        "BNB/USDT": pair_candles(bars, 600.0, 0.0, seed=4),
    }
    write_feather(root / "BTC_USDT-1h.feather", spot["BTC/USDT"])
    write_feather(root / "ETH_USDT-1h.feather", spot["ETH/USDT"])
    write_json(root / "SOL_USDT-1h.json", spot["SOL/USDT"])
    write_json(root / "BNB_USDT-1h.json.gz", spot["BNB/USDT"])
    for symbol, writer, extension in (
        ("BTC/USDT", write_feather, "feather"),
        ("ETH/USDT", write_json, "json"),
    ):
        pair = symbol.replace("/", "_") + "_USDT"
        perp = spot[symbol].copy()
        perp[:, 1:5] *= 1.0005
        writer(root / "futures" / f"{pair}-1h-futures.{extension}", perp)
        writer(root / "futures" / f"{pair}-8h-funding_rate.{extension}", funding_rows(perp, seed=7))
    return spot
