"""`oppscan evaluate`: the walk-forward table of every strategy for the configured
source, computed here (no service needed); `--markdown` rewrites the table of
docs/strategies.md for the bundled data."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import click
import msgspec
from rich import box
from rich.console import Console
from rich.table import Table

from config.errors import SettingsError
from config.settings import Settings, load_settings
from strategies.catalog import CATALOG
from strategies.errors import StrategyError
from strategies.evidence import compute, report
from strategies.evidence.records import Evaluation
from web.cli_params import COMMA_LIST

CATALOG_NAMES = tuple(spec.name for spec in CATALOG)


def evaluate_all(settings: Settings, names: Sequence[str]) -> tuple[list[Evaluation], float]:
    """Every named strategy's evaluation, and the CPU seconds they took together."""
    started = time.process_time()
    evaluations = []
    for computed in compute.evaluations(settings, names):
        if computed.evaluation is None:
            raise click.ClickException(f"{computed.strategy}: {computed.error}")
        evaluations.append(computed.evaluation)
    return evaluations, time.process_time() - started


# Short headers so the table fits 80 columns (the Markdown table has the long ones).
TERMINAL_HEADERS = ("strategy", "trades", "hit rate", "95 % CI", "exp R", "exp %", "worst run")


def rich_table(evaluations: Sequence[Evaluation], cpu_s: float) -> Table:
    first = evaluations[0]
    table = Table(
        title=f"walk-forward · {first.source} · data version {first.data_version}",
        caption=(
            f"every {first.stride_bars}th hourly bar · net of the taker fee + "
            f"{first.slippage_bps:g} bps slippage both ways · CPU {cpu_s:.1f} s"
        ),
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
    )
    for index, header in enumerate(TERMINAL_HEADERS):
        table.add_column(header, justify="left" if index == 0 else "right", no_wrap=True)
    for evaluation in evaluations:
        table.add_row(*terminal_cells(evaluation))
    return table


def terminal_cells(evaluation: Evaluation) -> tuple[str, ...]:
    overall = evaluation.overall
    if overall is None or not overall.trades or overall.hit_rate is None:
        trades = "0" if overall is not None else report.DASH
        return (evaluation.strategy, trades, *(report.DASH,) * 5)
    return (
        evaluation.strategy,
        str(overall.trades),
        f"{overall.hit_rate:.1%}",
        f"{overall.hit_rate_low:.1%}–{overall.hit_rate_high:.1%}",
        f"{overall.expectancy_r:+.3f}",
        f"{overall.expectancy_pct_net:+.3f}",
        str(evaluation.worst_losing_run),
    )


@click.command()
@click.option("--strategies", type=COMMA_LIST, help="Comma-separated (default: all 14).")
@click.option("--stride", type=click.IntRange(min=1), help="Hourly bars between evaluations.")
@click.option("--json", "as_json", is_flag=True, help="Every evaluation's summary as JSON.")
@click.option(
    "--markdown",
    is_flag=True,
    help="Rewrite the table in docs/strategies.md (bundled data, default settings).",
)
def evaluate(
    strategies: list[str] | None, stride: int | None, as_json: bool, markdown: bool
) -> None:
    """Replay every strategy walk-forward on the configured source's history and print
    trades, hit rate with its 95 % interval, expectancy in R and in % net of costs,
    and the worst run of losses."""
    names = strategies or list(CATALOG_NAMES)
    unknown = [name for name in names if name not in CATALOG_NAMES]
    if unknown:
        raise click.BadParameter(
            f"unknown {', '.join(unknown)}; valid: {', '.join(CATALOG_NAMES)}",
            param_hint="--strategies",
        )
    try:
        # Only the market-data settings matter here: no token secret is needed.
        settings = Settings() if markdown else load_settings(require_secret=False)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if stride is not None:
        settings = msgspec.structs.replace(settings, evidence_stride_bars=stride)
    try:
        evaluations, cpu_s = evaluate_all(settings, names)
    except StrategyError as exc:
        raise click.ClickException(str(exc)) from None
    if markdown:
        document = report.DOC_PATH.read_text()
        report.DOC_PATH.write_text(report.spliced(document, report.markdown(evaluations)))
        click.echo(f"wrote {report.DOC_PATH} ({len(evaluations)} strategies, CPU {cpu_s:.1f} s)")
    elif as_json:
        summaries = [msgspec.structs.replace(e, trades=[]) for e in evaluations]
        click.echo(json.dumps({"cpu_s": cpu_s, "evaluations": msgspec.to_builtins(summaries)}))
    else:
        console = Console()
        console.print(rich_table(evaluations, cpu_s))
        for evaluation in evaluations:
            if evaluation.note:
                console.print(f"  {evaluation.strategy}: {evaluation.note}", highlight=False)
