"""`oppscan data check DIR`: the table, the messages and the exit codes (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.strategies.freqtrade_dir import freqtrade_directory, write_json
from web.cli import main
from web.cli_data import EXIT_UNUSABLE, EXIT_USABLE

USAGE_EXIT = 2
# The settings the command reads, unset: each test sets what it means.
CLEAN_ENV = {"STALE_DATA_S": None, "DATA_MAX_GAP_S": None, "OPPSCAN_CONFIG": None}


def check(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(main, ["data", "check", *args], env={**CLEAN_ENV, **env})


def data_dir(tmp_path: Path) -> Path:
    """A directory named as freqtrade names it (the test's own name may say 'stale')."""
    root = tmp_path / "binance"
    root.mkdir()
    return root


def table_row(output: str, *cells: str) -> str:
    """The first line of the table holding every one of ``cells``."""
    return next(line for line in output.splitlines() if all(cell in line for cell in cells))


def test_a_clean_freqtrade_directory_passes(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    freqtrade_directory(tmp_path, bars=400)
    result = check(str(tmp_path))
    assert result.exit_code == EXIT_USABLE, result.output
    assert "as-of 2025-12-01 00:00" in result.output
    headers = table_row(result.output, "symbol", "status")
    for header in ("symbol", "tf", "rows", "first", "last", "gaps", "time", "status", "problems"):
        assert header in headers
    row = table_row(result.output, "BTC/USDT", "1h ")
    assert "400" in row and "2025-11-14" in row and "2025-12-01" in row and " ok" in row
    assert table_row(result.output, "ETH/USDT", "perp")
    assert table_row(result.output, "BTC/USDT", "8h")  # the funding file
    assert "8 ok" in result.output and "unusable" not in result.output


def test_an_unusable_file_fails_the_check_with_its_file_and_row(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    spot = freqtrade_directory(tmp_path)
    broken = spot["SOL/USDT"].copy()
    broken[[5, 6]] = broken[[6, 5]]  # repairable: sorted
    broken[99, 5] = -3.0  # unusable: negative volume
    write_json(tmp_path / "SOL_USDT-1h.json", broken)
    result = check(str(tmp_path))
    assert result.exit_code == EXIT_UNUSABLE, result.output
    assert "volume < 0" in table_row(result.output, "SOL/USDT", "unusable")
    assert "unusable: SOL_USDT-1h.json: row 100: negative volume" in result.output
    assert (
        "repaired: SOL_USDT-1h.json: rows out of time order (first at row 7): sorted"
        in result.output
    )


def test_repaired_and_stale_files_pass_and_say_so(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    spot = freqtrade_directory(tmp_path)
    write_json(tmp_path / "SOL_USDT-1h.json", spot["SOL/USDT"][::-1])
    write_json(tmp_path / "BNB_USDT-1h.json.gz", spot["BNB/USDT"][:-5])
    result = check(str(tmp_path))
    assert result.exit_code == EXIT_USABLE, result.output
    assert "sorted" in table_row(result.output, "SOL/USDT", "repaired")
    assert table_row(result.output, "BNB/USDT", "stale")
    assert "stale: BNB_USDT-1h.json.gz: last row 2025-11-30 19:00 is 5 h before" in result.output
    # The limit is the service's setting, read from the environment.
    relaxed = check(str(tmp_path), STALE_DATA_S="18000").output
    assert "stale" not in relaxed.split("as-of", 1)[1]


def test_the_unit_of_times_is_said_in_the_table(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    spot = freqtrade_directory(tmp_path)
    in_seconds = spot["SOL/USDT"].copy()
    in_seconds[:, 0] /= 1000
    write_json(tmp_path / "SOL_USDT-1h.json", in_seconds)
    result = check(str(tmp_path), "--json")
    assert result.exit_code == EXIT_USABLE, result.output
    files = {f["file"]: f for f in json.loads(result.output)["files"]}
    assert files["SOL_USDT-1h.json"]["time_unit"] == "s: 10 digits"
    assert files["BTC_USDT-1h.feather"]["time_unit"] == "ms: typed"
    assert files["SOL_USDT-1h.json"]["last"] == "2025-12-01 00:00"


def test_json_output_lists_every_problem(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    freqtrade_directory(tmp_path)
    (tmp_path / "ETH_USDT-1h.feather").write_bytes(b"ARROW1 but cut short")
    (tmp_path / "holdings.json").write_text("[1, 2]")
    result = check(str(tmp_path), "--json")
    assert result.exit_code == EXIT_UNUSABLE, result.output
    document = json.loads(result.output)
    files = {f["file"]: f for f in document["files"]}
    assert document["unusable"] is True
    assert files["ETH_USDT-1h.feather"]["status"] == "unusable"
    assert files["ETH_USDT-1h.feather"]["problems"][0].startswith("ETH_USDT-1h.feather: not a")
    assert files["holdings.json"]["problems"] == [
        "holdings.json: expected a JSON object by symbol; ignored"
    ]


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    assert check(str(tmp_path / "missing")).exit_code == USAGE_EXIT
    (tmp_path / "file").write_text("")
    assert check(str(tmp_path / "file")).exit_code == USAGE_EXIT
    assert check().exit_code == USAGE_EXIT


def test_a_directory_without_hourly_candles_fails(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    result = check(str(tmp_path))
    assert result.exit_code == EXIT_UNUSABLE
    assert "no hourly candle files" in result.output


def test_a_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    tmp_path = data_dir(tmp_path)
    result = check(str(tmp_path), DATA_MAX_GAP_S="0")
    assert result.exit_code == 1 and "DATA_MAX_GAP_S" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
