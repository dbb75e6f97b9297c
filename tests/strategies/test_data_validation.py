"""Every check of a data file, one broken file per problem: what is found, that the
message names the file and the row, and whether the file is repaired or unusable."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from strategies.sources.data_directory import DirectoryCheck, check_directory
from strategies.sources.validation import DataLimits, SeriesCheck, Status
from tests.strategies.freqtrade_dir import funding_rows, write_feather, write_json
from tests.strategies.synthetic import END_MS, HOUR_MS, candles, path

HOUR_S = 3600
LIMITS = DataLimits(max_gap_s=24 * HOUR_S, stale_data_s=HOUR_S)
# The checks' wall clock: two hours after the generated candles end.
NOW_MS = END_MS + 2 * HOUR_MS
BARS = 60
NAME = "BTC_USDT-1h.json"


def good_rows() -> np.ndarray:
    return candles(path((BARS - 1, 1.0), start=100.0), half_range=0.5)


def check_dir(directory: Path) -> DirectoryCheck:
    return check_directory(directory, LIMITS, NOW_MS)


def check_json(directory: Path, rows: np.ndarray | list[list[float | None]]) -> SeriesCheck:
    write_json(directory / NAME, rows)
    (series,) = check_dir(directory).series
    return series


def check_text(directory: Path, name: str, text: str) -> SeriesCheck:
    (directory / name).write_text(text)
    (series,) = check_dir(directory).series
    return series


def only_problem(series: SeriesCheck) -> str:
    assert series.status is Status.UNUSABLE and series.table is None
    (problem,) = series.problems
    assert problem.message.startswith(f"{series.file.name}: ")
    return problem.message


def test_a_clean_file_is_usable_as_written(tmp_path: Path) -> None:
    rows = good_rows()
    series = check_json(tmp_path, rows)
    assert series.status is Status.OK and not series.problems and not series.repairs
    assert series.time_unit == "ms: 13 digits" and series.gaps == 0
    np.testing.assert_array_equal(series.table, rows)
    assert series.first_ms == rows[0, 0] and series.last_ms == rows[-1, 0]


def test_a_truncated_json_file_is_unusable_and_named(tmp_path: Path) -> None:
    text = json.dumps(good_rows().tolist())
    cut = text[: len(text) // 2]
    row = cut.count("]") + 1  # the first row not complete
    assert 1 < row < BARS
    assert only_problem(check_text(tmp_path, NAME, cut)) == (
        f"{NAME}: not valid JSON at row {row} (Input data was truncated); truncated or damaged?"
    )


def test_damaged_json_names_the_row_where_it_breaks(tmp_path: Path) -> None:
    text = json.dumps(good_rows()[:3].tolist()).replace("], [", "], x[", 2)
    assert only_problem(check_text(tmp_path, NAME, text)).startswith(
        f"{NAME}: not valid JSON at row 2 (JSON is malformed: invalid character (byte "
    )


def test_a_row_of_the_wrong_shape_is_unusable(tmp_path: Path) -> None:
    rows = good_rows().tolist()
    rows[6] = rows[6][:4]
    assert only_problem(check_json(tmp_path, rows)) == (
        f"{NAME}: row 7: expected [time, open, high, low, close, volume] of numbers "
        "(Expected `array` of length 6)"
    )


def test_a_cell_that_is_not_a_number_is_unusable(tmp_path: Path) -> None:
    rows: list[list[object]] = good_rows().tolist()
    rows[4][2] = "101.5"  # a string, however numeric, is not what freqtrade writes
    assert only_problem(check_json(tmp_path, rows)) == (  # type: ignore[arg-type]
        f"{NAME}: row 5: expected [time, open, high, low, close, volume] of numbers "
        "(Expected `float | null`, got `str`)"
    )


def test_rows_out_of_order_are_sorted_and_the_table_says_so(tmp_path: Path) -> None:
    rows = good_rows()
    shuffled = rows.copy()
    shuffled[[10, 11]] = shuffled[[11, 10]]
    series = check_json(tmp_path, shuffled)
    assert series.status is Status.REPAIRED and not series.problems
    (repair,) = series.repairs
    assert repair.message == f"{NAME}: rows out of time order (first at row 12): sorted"
    np.testing.assert_array_equal(series.table, rows)


def test_exact_duplicate_rows_are_dropped(tmp_path: Path) -> None:
    rows = good_rows()
    doubled = np.insert(rows, [5, 30], rows[[4, 29]], axis=0)
    series = check_json(tmp_path, doubled)
    assert series.status is Status.REPAIRED
    assert [r.message for r in series.repairs] == [
        f"{NAME}: 2 exact duplicate rows (rows 6, 32): dropped"
    ]
    np.testing.assert_array_equal(series.table, rows)


def test_two_different_rows_at_one_time_are_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    other = rows[20].copy()
    other[4] += 0.1
    message = only_problem(check_json(tmp_path, np.insert(rows, 21, other, axis=0)))
    assert message == f"{NAME}: row 22: the same time as an earlier row with different values"


def test_short_gaps_are_counted_and_a_long_one_is_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    series = check_json(tmp_path, np.delete(rows, [10, 11, 40], axis=0))
    assert series.status is Status.OK and (series.gaps, series.missing_bars) == (2, 3)
    long_gap = np.delete(rows, range(10, 10 + 30), axis=0)  # 31 h without a candle
    message = only_problem(check_json(tmp_path, long_gap))
    assert message.startswith(
        f"{NAME}: 1 gaps longer than DATA_MAX_GAP_S=86400 s, the first 31 h after row 10 ("
    )


def test_times_in_seconds_are_read_as_seconds_and_say_so(tmp_path: Path) -> None:
    rows = good_rows()
    in_seconds = rows.copy()
    in_seconds[:, 0] /= 1000
    series = check_json(tmp_path, in_seconds)
    assert series.status is Status.OK and series.time_unit == "s: 10 digits"
    np.testing.assert_array_equal(series.table, rows)  # in milliseconds, not 1970


def test_times_in_no_plausible_unit_are_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    rows[3:, 0] = np.arange(len(rows) - 3) * 3600 + 1e7  # 1970 in seconds, or 10^7 ms
    message = only_problem(check_json(tmp_path, rows))
    assert message == (
        f"{NAME}: rows 4, 5, 6 and 54 more: time 10000000 is no date in 2000–2100 "
        "in seconds, milliseconds or microseconds"
    )


def test_times_mixing_seconds_and_milliseconds_are_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    rows[30:, 0] /= 1000
    message = only_problem(check_json(tmp_path, rows))
    assert message == f"{NAME}: times mix s (row 31) and ms (row 1); the unit cannot be told"


def test_csv_columns_are_found_by_name_in_any_order(tmp_path: Path) -> None:
    rows = good_rows()
    lines = ["Volume,close,DATE,high,open,low"] + [
        f"{r[5]},{r[4]},{int(r[0])},{r[2]},{r[1]},{r[3]}" for r in rows
    ]
    series = check_text(tmp_path, "BTC_USDT-1h.csv", "\n".join(lines) + "\n")
    assert series.status is Status.OK and series.note == ""
    np.testing.assert_array_equal(series.table, rows)


def test_a_csv_without_a_header_is_read_in_ccxt_order_and_says_so(tmp_path: Path) -> None:
    rows = good_rows()
    text = "\n".join(",".join(repr(v) for v in r) for r in rows.tolist())
    series = check_text(tmp_path, "BTC_USDT-1h.csv", text)
    assert series.status is Status.OK and series.note.startswith("no header")
    np.testing.assert_array_equal(series.table, rows)


def test_csv_problems_name_the_line(tmp_path: Path) -> None:
    header = "date,open,high,low,close,volume\n"
    missing = check_text(tmp_path, "BTC_USDT-1h.csv", "date,open,high,low,close\n1,2,3,4,5\n")
    assert only_problem(missing) == "BTC_USDT-1h.csv: line 1: no volume column in the header"
    text = header + "\n".join(
        f"{int(r[0])},{r[1]},{'x' if i == 2 else r[2]},{r[3]},{r[4]},{r[5]}"
        for i, r in enumerate(good_rows())
    )
    assert only_problem(check_text(tmp_path, "BTC_USDT-1h.csv", text)) == (
        "BTC_USDT-1h.csv: line 4: high 'x' is not a number"
    )


def high_below_body(row: list[float | None]) -> None:
    row[2] = max(row[1], row[4]) - 0.01  # type: ignore[type-var, operator]


def low_above_body(row: list[float | None]) -> None:
    row[3] = min(row[1], row[4]) + 0.01  # type: ignore[type-var, operator]


def negative_volume(row: list[float | None]) -> None:
    row[5] = -1.0


def missing_close(row: list[float | None]) -> None:
    row[4] = None  # JSON null: ccxt's empty value


def zero_prices(row: list[float | None]) -> None:
    row[1:5] = [0.0] * 4


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (high_below_body, "high below max(open, close)"),
        (low_above_body, "low above min(open, close)"),
        (negative_volume, "negative volume"),
        (missing_close, "a value is NaN or empty"),
        (zero_prices, "a price is zero or negative"),
    ],
)
def test_impossible_values_are_unusable_naming_the_rows(
    tmp_path: Path, damage: Callable[[list[float | None]], None], what: str
) -> None:
    rows: list[list[float | None]] = good_rows().tolist()
    for index in (7, 33):
        damage(rows[index])
    assert only_problem(check_json(tmp_path, rows)) == f"{NAME}: rows 8, 34: {what}"


def test_candles_from_the_future_are_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    rows[-1, 0] = NOW_MS + 3 * HOUR_MS
    message = only_problem(check_json(tmp_path, rows))
    assert message.startswith(f"{NAME}: row {BARS}: ") and "is in the future" in message


def test_candles_off_the_timeframe_grid_are_unusable(tmp_path: Path) -> None:
    rows = good_rows()
    rows[:, 0] += 5 * 60 * 1000  # every candle at :05
    message = only_problem(check_json(tmp_path, rows))
    assert message.startswith(f"{NAME}: rows 1, 2, 3 and {BARS - 3} more: ")
    assert message.endswith("is not on the 1h grid (not 1h candles?)")


def test_an_empty_file_is_unusable(tmp_path: Path) -> None:
    assert only_problem(check_json(tmp_path, [])) == f"{NAME}: no rows"


def test_two_files_of_one_series_are_both_unusable(tmp_path: Path) -> None:
    write_json(tmp_path / NAME, good_rows())
    write_feather(tmp_path / "BTC_USDT-1h.feather", good_rows())
    found = check_dir(tmp_path)
    assert [s.status for s in found.series] == [Status.UNUSABLE, Status.UNUSABLE]
    assert "BTC_USDT-1h.feather and BTC_USDT-1h.json both hold BTC/USDT 1h spot" in str(
        found.series[0].problems[0]
    )


def test_freqtrade_feather_and_funding_files(tmp_path: Path) -> None:
    rows = good_rows()
    write_feather(tmp_path / "BTC_USDT-1h.feather", rows)
    funding = funding_rows(rows, seed=1)
    assert (funding[:, 1] < 0).any()  # negative rates, zero high/low: not candle problems
    write_json(tmp_path / "futures" / "BTC_USDT_USDT-8h-funding_rate.json", funding)
    spot, rates = check_dir(tmp_path).series
    assert spot.status is Status.OK and spot.time_unit == "ms: typed"
    np.testing.assert_array_equal(spot.table, rows)
    assert rates.status is Status.OK and rates.file.timeframe == "8h"


def test_a_damaged_feather_file_is_unusable(tmp_path: Path) -> None:
    data = write_feather(tmp_path / "BTC_USDT-1h.feather", good_rows()).read_bytes()
    (tmp_path / "BTC_USDT-1h.feather").write_bytes(data[: len(data) // 2])
    message = only_problem(check_dir(tmp_path).series[0])
    assert message.startswith("BTC_USDT-1h.feather: not a readable feather file")


def test_damaged_side_files_are_ignored_with_their_problem(tmp_path: Path) -> None:
    write_json(tmp_path / NAME, good_rows())
    (tmp_path / "markets.json").write_text('{"BTC/USDT": {"taker": 0.0004')
    (tmp_path / "holdings.json").write_text('{"BTC/USDT": "lots"}')
    found = check_dir(tmp_path)
    assert found.side("markets.json") == {} and found.side("holdings.json") == {}
    messages = [str(p) for p in found.unusable]
    assert messages[0].startswith("markets.json: not readable JSON")
    assert messages[1] == "holdings.json: 'BTC/USDT' holds 'lots', not a quantity; ignored"
    assert not math.isnan(found.as_of_ms or math.nan)
