"""`oppscan`: run the service, mint development tokens, start and follow scans,
list the live scans' leases.

Exit codes, for scripts: 0 the scan completed (or, without --watch, was
started); 1 the service answered with an error or could not be reached; 2 bad
usage; 3 the scan ended `partial` (its deadline came first; results are
printed, some strategies timed out); 4 `failed`; 5 `cancelled`; 130 stopped
with Ctrl-C while following (the scan keeps running).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from config.data_dir import DATA_DIR_ENV, DEFAULT_DATA_DIR, DEV_SECRET_FILE, read_secret
from config.errors import SettingsError
from config.settings import load_settings
from coordinator.process.embedded_redis import EmbeddedRedisError
from coordinator.store.records import ScanStatus
from web import cli_data, cli_evaluate, cli_render, cli_table
from web import serve as serve_module
from web.auth import USER_ID_MAX_CHARS, mint_token
from web.cli_client import ScanService, ServiceError
from web.cli_params import COMMA_LIST, DURATION
from web.cli_settings import settings_command

T = TypeVar("T")
EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_CANCELLED = 0, 3, 4, 5
EXIT_USAGE = 2  # click's, for bad usage; also `serve` refusing its settings
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
EXIT_CODES = {
    "completed": EXIT_OK,
    "partial": EXIT_PARTIAL,
    "failed": EXIT_FAILED,
    "cancelled": EXIT_CANCELLED,
}
LEASE_STATUSES = tuple(status.value for status in ScanStatus)
LEASES_LIMIT_DEFAULT, LEASES_LIMIT_MAX = 100, 1000
DEFAULT_TOKEN_TTL = "1h"
RESULT_FORMATS = ("table", "json", "csv")


def service_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--url and --token, also read from OPPSCAN_URL and OPPSCAN_TOKEN."""
    command = click.option(
        "--token",
        envvar="OPPSCAN_TOKEN",
        help="Bearer token (default: $OPPSCAN_TOKEN; mint one with `oppscan token`).",
    )(command)
    return click.option(
        "--url",
        envvar="OPPSCAN_URL",
        default=serve_module.DEFAULT_URL,
        show_default=True,
        help="The service (default: $OPPSCAN_URL).",
    )(command)


def connect(url: str, token: str | None) -> ScanService:
    if not token:
        raise click.UsageError(
            "no token: pass --token or set OPPSCAN_TOKEN (mint one with `oppscan token --user U`)"
        )
    return ScanService(url, token)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine; the service's errors become a clear message and exit 1."""
    try:
        return asyncio.run(coroutine)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Opportunity Scanner: run the service, mint tokens, start and follow scans."""


def data_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=DATA_DIR_ENV,
        default=DEFAULT_DATA_DIR,
        show_default=True,
        help=f"The data directory (default: ${DATA_DIR_ENV}): the embedded redis-server's "
        "files and password, and the development secret.",
    )(command)


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Gunicorn worker processes (default: $WEB_CONCURRENCY, else 2).",
)
@click.option("--host", help="Address to listen on (default: $HOST, else 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: $PORT, else 8080).")
@click.option(
    "--dev",
    is_flag=True,
    help="Development mode (as DEV_MODE=1): loopback only, a random secret kept in the "
    "data directory, non-admin tokens from the page, a token printed.",
)
@data_dir_option
def serve(
    workers: int | None, host: str | None, port: int | None, dev: bool, data_dir: Path
) -> None:
    """Run the service (`make run` runs `serve --dev`); an embedded redis-server if
    REDIS_URL is unset. Production unless --dev: JWT_SECRET (32+ bytes) is required."""
    options = serve_module.ServeOptions(workers, data_dir, dev, host, port)
    try:
        code = serve_module.serve(options)
    except SettingsError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@main.command()
@click.option("--user", required=True, help="The token's subject (user id).")
@click.option("--admin", is_flag=True, help="Add the admin role (admin routes, `oppscan leases`).")
@click.option(
    "--ttl",
    type=DURATION,
    default=DEFAULT_TOKEN_TTL,
    show_default=True,
    help="Lifetime: a number and a unit, s m h or d (30s, 15m, 1h, 2d).",
)
@data_dir_option
def token(user: str, admin: bool, ttl: int, data_dir: Path) -> None:
    """Mint a bearer token signed with JWT_SECRET, or, when it is unset, with the
    development secret `oppscan serve --dev` keeps in the data directory."""
    if not user or len(user) > USER_ID_MAX_CHARS:
        raise click.BadParameter(
            f"must be 1 to {USER_ID_MAX_CHARS} characters", param_hint="--user"
        )
    env = dict(os.environ)
    try:
        if not env.get("JWT_SECRET"):
            env["JWT_SECRET"] = development_secret_for_token(data_dir)
        settings = load_settings(env)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(mint_token(settings, user, admin=admin, ttl_s=ttl))


def development_secret_for_token(data_dir: Path) -> str:
    """The secret of a development service started in ``data_dir``; never made here:
    a token signed with a secret no service knows would only be refused later."""
    path = data_dir / DEV_SECRET_FILE
    secret = read_secret(path)
    if secret is None:
        raise SettingsError(
            "JWT_SECRET",
            f"not set, and no development secret in {path} "
            "(set JWT_SECRET, or start `oppscan serve --dev` with this data directory first)",
        )
    click.echo(f"signed with the development secret in {path}", err=True)
    return secret


@main.command()
@click.option("--strategies", type=COMMA_LIST, help="Comma-separated (default: the server's).")
@click.option("--symbols", type=COMMA_LIST, help="Comma-separated (default: all).")
@click.option("--watch", is_flag=True, help="Follow it live, then print the opportunities.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON only.")
@service_options
def scan(
    strategies: list[str] | None,
    symbols: list[str] | None,
    watch: bool,
    as_json: bool,
    url: str,
    token: str | None,
) -> None:
    """Start a scan; with --watch, follow it and exit by its terminal status."""
    service = connect(url, token)
    outcome = ScanOutcome()
    try:
        code = run(start_scan(service, strategies, symbols, watch, as_json, outcome))
    except KeyboardInterrupt:
        click.echo(f"stopped following scan {outcome.scan_id}; it keeps running", err=True)
        code = EXIT_INTERRUPTED
    sys.exit(code)


class ScanOutcome:
    """What the command knows of its scan, for the message after a Ctrl-C."""

    scan_id: str | None = None


async def start_scan(
    service: ScanService,
    strategies: list[str] | None,
    symbols: list[str] | None,
    watch: bool,
    as_json: bool,
    outcome: ScanOutcome,
) -> int:
    async with service:
        created, snapshot = await service.start_scan(strategies, symbols)
        outcome.scan_id = snapshot["scan_id"]
        if not created:
            click.echo(
                f"you already have an active scan, {outcome.scan_id}: showing it, "
                "not starting another",
                err=True,
            )
        if not watch:
            show_started(snapshot, as_json)
            return EXIT_OK
        final = await watch_scan(service, snapshot["scan_id"], show_progress=not as_json)
        results = await service.results(final["scan_id"])
    if as_json:
        click.echo(json.dumps({"scan": final, "results": results}))
    else:
        show_results(final, results)
    return EXIT_CODES[final["status"]]


def show_started(snapshot: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(snapshot))
        return
    total = snapshot["progress"]["total_strategies"]
    click.echo(f"scan {snapshot['scan_id']} {snapshot['status']} ({total} strategies)")


async def watch_scan(service: ScanService, scan_id: str, *, show_progress: bool) -> dict[str, Any]:
    """Follow the scan to its terminal snapshot, drawing progress on stderr if asked."""
    final: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        progress = (
            stack.enter_context(cli_render.ScanProgress(Console(stderr=True)))
            if show_progress
            else None
        )
        async for snapshot in service.follow(scan_id):
            final = snapshot
            if progress is not None:
                progress.update(snapshot)
    return final


def show_results(final: dict[str, Any], results: dict[str, Any]) -> None:
    console = Console()
    console.print(cli_table.opportunities_table(results, console.width))
    console.print(cli_table.LEGEND, style="dim")
    console.print(cli_render.findings_table(final))
    for line in cli_render.strategy_problems(final):
        console.print(f"  {line}")
    console.print(
        f"scan {final['scan_id']} {cli_render.styled(final['status'])}"
        + (f": {escape(final['cancel_reason'])}" if final.get("cancel_reason") else "")
    )


@main.command()
@click.argument("scan_id")
@click.option(
    "--format",
    "output",
    type=click.Choice(RESULT_FORMATS),
    default="table",
    show_default=True,
    help="table: fits the terminal; json: every field, names in full; csv: the service's CSV.",
)
@service_options
def results(scan_id: str, output: str, url: str, token: str | None) -> None:
    """The opportunities of a scan (yours, while its results are retained)."""
    text = run(read_results(connect(url, token), scan_id, output))
    if output == "table":
        console = Console()
        console.print(cli_table.opportunities_table(json.loads(text), console.width))
        console.print(cli_table.LEGEND, style="dim")
    else:
        click.echo(text, nl=output == "json")


async def read_results(service: ScanService, scan_id: str, output: str) -> str:
    async with service:
        if output == "csv":
            return await service.results_csv(scan_id)
        return json.dumps(await service.results(scan_id))


@main.command()
@click.option("--status", type=click.Choice(LEASE_STATUSES), help="Only scans in this status.")
@click.option("--user", help="Only this user's scans.")
@click.option("--worker", help="Only scans owned by this worker (host:pid).")
@click.option(
    "--limit",
    type=click.IntRange(1, LEASES_LIMIT_MAX),
    default=LEASES_LIMIT_DEFAULT,
    show_default=True,
)
@click.option("--cursor", help="Start after this scan id (the previous page's last).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON only.")
@service_options
def leases(
    status: str | None,
    user: str | None,
    worker: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    url: str,
    token: str | None,
) -> None:
    """The live scans with their owner worker, epoch and lease time left (admin token)."""
    query = {"limit": str(limit)}
    for name, value in (("status", status), ("user", user), ("worker", worker), ("cursor", cursor)):
        if value is not None:
            query[name] = value
    page = run(list_leases(connect(url, token), query))
    if as_json:
        click.echo(json.dumps(page))
    else:
        Console().print(cli_render.leases_table(page))


async def list_leases(service: ScanService, query: dict[str, str]) -> dict[str, Any]:
    async with service:
        return await service.leases(query)


main.add_command(cli_data.data)
main.add_command(settings_command)
main.add_command(cli_evaluate.evaluate)

if __name__ == "__main__":
    main()
