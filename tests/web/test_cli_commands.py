"""The command line's parsing and token minting (click's CliRunner), and its
client falling back to polling when the websocket is refused (an in-process
service on a real redis-server, behind a proxy that drops websockets)."""

from __future__ import annotations

import jwt
import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from config.data_dir import DEV_SECRET_FILE, development_secret
from config.settings import Settings
from coordinator.store.records import TERMINAL_SCAN_STATUSES
from tests.support import TEST_SECRET, StaticProvider, diagnostic_registry
from web.app import create_app
from web.auth import USER_ID_MAX_CHARS, mint_token
from web.cli import EXIT_CODES, EXIT_OK, main
from web.cli_client import ScanService
from web.errors import Handler

USAGE_EXIT = 2
SECONDS = {"30s": 30, "15m": 900, "1h": 3600, "2d": 172_800, " 45M ": 2700}
# Fewer than the client's limit of consecutive transient failures.
FLAKY_READS = 3
BAD_DURATIONS = ["5x", "0s", "1w", "", "-1h", "1.5h", "h", "1h30m", "9" * 5000 + "s", "366d"]
# No environment of the developer's machine leaks into what the tests mint.
CLEAN_ENV = {
    "JWT_SECRET": None,
    "DEV_MODE": None,
    "OPPSCAN_CONFIG": None,
    "OPPSCAN_TOKEN": None,
    "OPPSCAN_DATA_DIR": None,
}


def invoke(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(main, list(args), env={**CLEAN_ENV, **env})


@pytest.mark.parametrize(("text", "seconds"), SECONDS.items())
def test_token_ttl_durations(text: str, seconds: int) -> None:
    result = invoke("token", "--user", "u", "--ttl", text, JWT_SECRET=TEST_SECRET)
    assert result.exit_code == EXIT_OK, result.output
    claims = jwt.decode(result.output.strip(), TEST_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == seconds


@pytest.mark.parametrize("text", BAD_DURATIONS)
def test_bad_duration_is_a_usage_error(text: str) -> None:
    result = invoke("token", "--user", "u", "--ttl", text, JWT_SECRET=TEST_SECRET)
    assert result.exit_code == USAGE_EXIT, result.output
    assert "Invalid value for '--ttl'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_admin_token_signed_with_the_data_directory_development_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without JWT_SECRET, `token` signs with the secret `serve --dev` keeps in the data
    directory (found by --data-dir or OPPSCAN_DATA_DIR), and says so on stderr."""
    data_dir = tmp_path / "data"
    secret = development_secret({"OPPSCAN_DATA_DIR": str(data_dir)})  # as `serve --dev` makes it
    for args, env in (
        (["--data-dir", str(data_dir)], {}),
        ([], {"OPPSCAN_DATA_DIR": str(data_dir)}),
    ):
        result = CliRunner().invoke(
            main, ["token", "--user", "ops", "--admin", *args], env={**CLEAN_ENV, **env}
        )
        assert result.exit_code == EXIT_OK, result.output
        assert result.stderr.startswith("signed with the development secret in ")
        claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
        assert claims["sub"] == "ops" and claims["role"] == "admin"


def test_token_without_a_secret_is_refused_and_makes_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    for env in ({}, {"DEV_MODE": "1"}):
        result = invoke("token", "--user", "u", "--data-dir", str(data_dir), **env)
        assert result.exit_code == 1
        assert "JWT_SECRET" in result.output and "Traceback" not in result.output
        assert not (data_dir / DEV_SECRET_FILE).exists()
    short = invoke("token", "--user", "u", JWT_SECRET="s" * 31)
    assert short.exit_code == 1 and "32 bytes" in short.output


def test_token_refuses_a_development_secret_others_could_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    development_secret({"OPPSCAN_DATA_DIR": str(data_dir)})
    (data_dir / DEV_SECRET_FILE).chmod(0o644)
    result = invoke("token", "--user", "u", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert "may have been read by others" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "--user", "x" * (USER_ID_MAX_CHARS + 1)], "Invalid value for --user"),
        (["token"], "Missing option '--user'"),
        (["scan", "--strategies", "a,,b", "--token", "t"], "has an empty name"),
        (["scan"], "no token"),
        (["leases", "--limit", "0", "--token", "t"], "Invalid value for '--limit'"),
        (["serve", "--workers", "0"], "Invalid value for '--workers'"),
        (["serve", "--port", "70000"], "Invalid value for '--port'"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == USAGE_EXIT, result.output
    assert message in result.output


def test_every_terminal_status_has_an_exit_code() -> None:
    assert set(EXIT_CODES) == {status.value for status in TERMINAL_SCAN_STATUSES}
    assert EXIT_CODES["completed"] == EXIT_OK
    failures = [EXIT_CODES[s] for s in ("partial", "failed", "cancelled")]
    assert EXIT_OK not in failures and len(set(failures)) == len(failures)


class FlakyProxy:
    """A proxy that refuses websockets and answers the first few snapshot reads 503,
    as while Redis is briefly away."""

    def __init__(self, unavailable_reads: int) -> None:
        self.unavailable_left = unavailable_reads

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            raise web.HTTPForbidden()
        if request.method == "GET" and self.unavailable_left > 0:
            self.unavailable_left -= 1
            raise web.HTTPServiceUnavailable()
        return await handler(request)


@pytest.mark.parametrize("unavailable_reads", [0, FLAKY_READS])
async def test_follow_polls_when_the_websocket_is_refused(
    api_settings: Settings,
    aiohttp_server,  # type: ignore[no-untyped-def]
    unavailable_reads: int,
) -> None:
    proxy = FlakyProxy(unavailable_reads)
    app = create_app(api_settings, registry=diagnostic_registry(), provider=StaticProvider())
    app.middlewares.insert(0, proxy.middleware)
    server = await aiohttp_server(app)
    token = mint_token(api_settings, "poller")
    async with ScanService(str(server.make_url("")), token) as service:
        created, first = await service.start_scan(["sleep_100ms", "noop"], None)
        assert created
        seen = [snapshot async for snapshot in service.follow(first["scan_id"])]
        assert seen[-1] == await service.scan(first["scan_id"])
    assert proxy.unavailable_left == 0
    versions = [snapshot["version"] for snapshot in seen]
    assert versions == sorted(set(versions)), versions
    assert seen[-1]["status"] == "completed"
