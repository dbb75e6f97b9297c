"""`oppscan evaluate`: the walk-forward table for the configured source, no service."""

from __future__ import annotations

import json

from click.testing import CliRunner

from web.cli import main

# A coarse stride keeps each run to a second or two.
STRIDE = "96"


def run(*args: str):  # type: ignore[no-untyped-def]
    env = {"MARKET_DATA_SOURCE": "bundled", "COLUMNS": "100"}
    return CliRunner().invoke(main, ["evaluate", *args], env=env)


def test_prints_the_table_of_the_strategies_asked():
    result = run("--strategies", "mean_reversion,scalping", "--stride", STRIDE)
    assert result.exit_code == 0, result.output
    assert "walk-forward · bundled-synthetic" in result.output
    for header in ("trades", "hit rate", "95 % CI", "exp R", "exp %", "worst run"):
        assert header in result.output
    lines = [line.split() for line in result.output.splitlines()]
    row = next(line for line in lines if line and line[0] == "mean_reversion")
    assert int(row[1]) > 0  # trades
    assert f"every {STRIDE}th hourly bar" in result.output


def test_json_has_every_evaluation_without_its_trades():
    result = run("--strategies", "mean_reversion", "--stride", STRIDE, "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    [evaluation] = printed["evaluations"]
    assert evaluation["strategy"] == "mean_reversion" and evaluation["stride_bars"] == int(STRIDE)
    assert evaluation["trades"] == [] and evaluation["trades_total"] > 0
    assert printed["cpu_s"] > 0


def test_an_unknown_strategy_is_a_usage_error_naming_the_valid_ones():
    result = run("--strategies", "hedging,astrology")
    assert result.exit_code == 2
    assert "astrology" in result.output and "trend_momentum" in result.output
