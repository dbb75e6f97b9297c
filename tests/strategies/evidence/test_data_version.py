"""Each source names its data version: evidence is computed once per version."""

from __future__ import annotations

import json
import os
from pathlib import Path

from strategies.sources.bundled import BundledProvider
from strategies.sources.ccxt_live import HOUR_MS, CcxtProvider
from strategies.sources.files import FilesProvider
from strategies.sources.validation import DataLimits

START_MS = 1_700_000_000_000 // HOUR_MS * HOUR_MS
LIMITS = DataLimits(max_gap_s=6 * 3600, stale_data_s=30 * 24 * 3600)


def test_bundled_version_is_a_hash_of_the_file(tmp_path):
    assert BundledProvider().data_version() == BundledProvider().data_version()
    assert len(BundledProvider().data_version()) == 16


def write(directory: Path, rows: int) -> Path:
    candles = [
        [START_MS + i * HOUR_MS, 100.0, 101.0, 99.0, 100.0 + (i % 3), 10.0] for i in range(rows)
    ]
    path = directory / "BTC_USDT-1h.json"
    path.write_text(json.dumps(candles))
    return path


def provider_now(directory: Path) -> FilesProvider:
    return FilesProvider(directory, LIMITS, clock=lambda: (START_MS + 400 * HOUR_MS) / 1000)


def test_files_version_changes_when_a_file_does(tmp_path):
    path = write(tmp_path, 300)
    first = provider_now(tmp_path).data_version()
    assert provider_now(tmp_path).data_version() == first
    write(tmp_path, 301)  # one more candle: another size
    grown = provider_now(tmp_path).data_version()
    assert grown != first
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched
    assert provider_now(tmp_path).data_version() != grown


def test_ccxt_version_is_the_last_closed_hour():
    now_s = (START_MS + 90 * 60 * 1000) / 1000  # 1 h 30 min past START_MS
    provider = CcxtProvider(exchange=object(), clock=lambda: now_s)
    assert provider.data_version() == str(START_MS)
