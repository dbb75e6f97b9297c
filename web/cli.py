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
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from config.errors import SettingsError
from config.settings import load_settings
from coordinator.embedded_redis import EmbeddedRedisError
from coordinator.records import ScanStatus
from web import cli_data, cli_evaluate, cli_render
from web import serve as serve_module
from web.auth import USER_ID_MAX_CHARS, mint_token
from web.cli_client import ScanService, ServiceError
from web.cli_params import COMMA_LIST, DURATION

T = TypeVar("T")
EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_CANCELLED = 0, 3, 4, 5
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


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Gunicorn worker processes (default: $WEB_CONCURRENCY, else 2).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="OPPSCAN_DATA_DIR",
    default=serve_module.DEFAULT_DATA_DIR,
    show_default=True,
    help="Where the embedded redis-server keeps its append-only file (REDIS_URL unset).",
)
def serve(workers: int | None, data_dir: Path) -> None:
    """Run the service (what `make run` runs); an embedded redis-server if REDIS_URL is unset."""
    try:
        code = serve_module.serve(workers=workers, data_dir=data_dir)
    except (SettingsError, EmbeddedRedisError) as exc:
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
def token(user: str, admin: bool, ttl: int) -> None:
    """Mint a bearer token signed with the configured secret (JWT_SECRET, or the
    development secret when it is unset and DEV_MODE is not 0)."""
    if not user or len(user) > USER_ID_MAX_CHARS:
        raise click.BadParameter(
            f"must be 1 to {USER_ID_MAX_CHARS} characters", param_hint="--user"
        )
    try:
        settings = load_settings(serve_module.development_env())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(mint_token(settings, user, admin=admin, ttl_s=ttl))


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
    console.print(cli_render.opportunities_table(results))
    for line in cli_render.strategy_problems(final):
        console.print(f"  {line}")
    console.print(
        f"scan {final['scan_id']} {cli_render.styled(final['status'])}"
        + (f": {escape(final['cancel_reason'])}" if final.get("cancel_reason") else "")
    )


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
main.add_command(cli_evaluate.evaluate)

if __name__ == "__main__":
    main()
