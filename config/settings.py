"""One frozen Settings struct, built from the environment and an optional TOML file.

Every duration carries its unit in its name. Values derived from settings are
derived here, in properties, and nowhere else. Every field that is a setting
is marked with its environment variable (``EnvVar``) and has its user-facing
meaning as a docstring under it: the README's settings table and `oppscan
settings` are generated from them. The comments above the fields say why a
default is what it is.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec

from config.errors import SettingsError
from config.redis_url import check as check_redis_url
from config.redis_url import redact

DEFAULT_TOML_PATH = Path(__file__).with_name("settings.toml")
# The environment variable naming another TOML file than DEFAULT_TOML_PATH.
CONFIG_ENV = "OPPSCAN_CONFIG"


@dataclass(frozen=True, slots=True)
class EnvVar:
    """Marks a Settings field as a setting: the environment variable it is read from.
    msgspec ignores it; the field's docstring (the string under it) is its meaning
    in the settings table."""

    name: str
    # How the default reads in the table when the value alone would mislead
    # (an empty secret is "required", no default strategies is "all").
    shown_default: str | None = None
    # How `oppscan settings` prints a value that is set when printing it as it is
    # would show a secret.
    shown_as: Callable[[Any], str] | None = None


def hidden(_secret: str) -> str:
    """A secret as printed: that it is set, never what it is."""
    return "***"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Where Redis is; None means "start an embedded redis-server" (loopback only,
    # with a random password kept in the data directory).
    redis_url: Annotated[str | None, EnvVar("REDIS_URL", shown_as=redact)] = None
    """Redis to use: `redis://` one Redis, `redis+cluster://` a Cluster, `redis+sentinel://` a
    Sentinel-managed primary (see [Redis topologies](#redis-topologies-redis_url)); unset,
    `oppscan serve` and the `web` process start an embedded redis-server (data in
    `OPPSCAN_DATA_DIR`, append-only file on)"""
    # HS256 secret of bearer tokens: always required, at least JWT_SECRET_MIN_BYTES
    # (`oppscan serve --dev` supplies a random one kept in the data directory).
    jwt_secret: Annotated[str, EnvVar("JWT_SECRET", shown_default="required", shown_as=hidden)] = ""
    """HS256 secret of bearer tokens, at least 32 bytes in every mode (`oppscan serve --dev`
    supplies a random one kept in the data directory)"""
    # Development mode: loopback only, and POST /api/v1/dev/token mints
    # non-admin tokens for the page.
    dev_mode: Annotated[bool, EnvVar("DEV_MODE")] = False
    """development mode, as `oppscan serve --dev` (`make run`): loopback only, the page mints
    non-admin tokens"""
    port: Annotated[int, EnvVar("PORT")] = 8080
    """the port `oppscan serve` listens on (the Procfile binds `${HOST:-0.0.0.0}:$PORT`)"""
    host: Annotated[str, EnvVar("HOST")] = "127.0.0.1"
    """the address `oppscan serve` listens on; development mode refuses one that is not loopback"""
    # Gunicorn worker processes of the `web` process type.
    web_concurrency: Annotated[int, EnvVar("WEB_CONCURRENCY")] = 2
    """gunicorn workers of the `web` process"""
    # How long an owner's lease lasts without renewal. 5 s: long enough that a
    # GC pause or a busy loop never loses it, short enough that a dead owner's
    # scan is running again in seconds.
    lease_ttl_ms: Annotated[int, EnvVar("LEASE_TTL_MS")] = 5000
    """scan lease lifetime; renewed every third of it; a dead owner's scan runs again after
    about this"""
    # A scan still running this long after creation ends `partial`.
    scan_deadline_s: Annotated[float, EnvVar("SCAN_DEADLINE_S")] = 150.0
    """a scan still running this long ends `partial`, late strategies `timed_out`"""
    # How long a terminal scan's keys (snapshot, results, timeline) are kept.
    result_retention_s: Annotated[int, EnvVar("RESULT_RETENTION_S")] = 3600
    """how long a finished scan's keys live (all together)"""
    # How long after retention a tombstone lets the owner read "expired" (410).
    tombstone_retention_s: Annotated[int, EnvVar("TOMBSTONE_RETENTION_S")] = 7 * 24 * 3600
    """how long after `RESULT_RETENTION_S` a scan's owner reads `410 expired` instead of `404`"""
    # Simulated exchange round trip per market-data fetch of the bundled provider.
    market_data_latency_ms: Annotated[int, EnvVar("MARKET_DATA_LATENCY_MS")] = 0
    """simulated exchange round trip per market-data fetch of the bundled source"""
    # Market-data source: bundled | files | ccxt.
    market_data_source: Annotated[str, EnvVar("MARKET_DATA_SOURCE")] = "bundled"
    """market-data source: `bundled` (a synthetic year, simulated prices, see
    [`docs/bundled-data.md`](docs/bundled-data.md)), `files` (your own candles, see [Your own
    data](#your-own-data-the-files-source)) or `ccxt` (an exchange's)"""
    market_data_dir: Annotated[str | None, EnvVar("MARKET_DATA_DIR")] = None
    """the directory the `files` source reads"""
    # The files source leaves out a symbol whose last hourly candle is more than this
    # older than the newest one (the snapshot's as-of) instead of moving the as-of
    # back: one candle behind is a download that crossed an hour boundary, more is a
    # pair that stopped trading or a file nobody updated.
    stale_data_s: Annotated[float, EnvVar("STALE_DATA_S")] = 3600.0
    """files source: a symbol whose last hourly candle is more than this older than the
    snapshot's as-of (the newest hourly candle) is left out of scans as `stale_data`"""
    # A data file with a step between candles longer than this is unusable: exchange
    # outages last hours, a day or more missing is a hole in the file, and the
    # strategies' indicators would read across it as if it were one bar.
    data_max_gap_s: Annotated[float, EnvVar("DATA_MAX_GAP_S")] = 86400.0
    """files source: a file with a step between candles longer than this is unusable (shorter
    gaps are counted in `data check`)"""
    # Strategies a scan runs when its request names none (empty: all real ones).
    default_strategies: Annotated[
        tuple[str, ...], EnvVar("DEFAULT_STRATEGIES", shown_default="all")
    ] = ()
    """comma-separated strategies a scan runs when it names none"""
    # Registers the noop/sleep/explode strategies tests and benchmarks use.
    diagnostic_strategies: Annotated[bool, EnvVar("DIAGNOSTIC_STRATEGIES")] = False
    """also register `noop`, `cpu_1ms`, `sleep_*`, `explode`, `hang`, and numbered copies
    `noop_01`…`noop_14`, `cpu_1ms_*`, `sleep_100ms_*` for a 14-strategy fan-out (tests,
    benchmarks)"""
    # Strategies one process runs in threads at once; strategies are CPU-light and
    # mostly wait on market data, so a few per core.
    strategy_concurrency: Annotated[int, EnvVar("STRATEGY_CONCURRENCY")] = 8
    """strategies one process runs in threads at once (a strategy's time budget starts when a
    thread is free for it)"""
    # Strategy tasks one process holds at once (taken, not yet acknowledged). It
    # takes more than it has threads for only while its recent runs were all quick
    # enough for the event loop: then a task's report and acknowledgement, not its
    # run, are most of its time. Slow work is left to other processes to take.
    strategy_tasks_in_flight: Annotated[int, EnvVar("STRATEGY_TASKS_IN_FLIGHT")] = 32
    """strategy tasks one process holds at once; more than its threads only while its recent
    runs were all quick enough for the event loop (a task holds its slot until it has run, not
    while its report is written)"""
    # A first attempt says it started (the scan shows it running) only once it has
    # run this long: most strategies finish sooner, and their report alone tells
    # the owner when they started, at half the mailbox traffic. Retries say so at
    # once, so a late report of the attempt they replace is seen as superseded.
    started_notice_delay_ms: Annotated[int, EnvVar("STARTED_NOTICE_DELAY_MS")] = 50
    """a strategy's first attempt shows as running only once it has run this long (faster ones
    report once, with their start time); retries show at once"""
    # A strategy whose recent runs all took at most this long runs on the event
    # loop instead of in a thread: cheaper than the thread hop, and a stall this
    # short is far below anything the loop does on a schedule. 0: always a thread.
    strategy_inline_budget_ms: Annotated[float, EnvVar("STRATEGY_INLINE_BUDGET_MS")] = 1.0
    """a strategy whose recent runs (same symbol count) all took at most this runs on the event
    loop, not in a thread (`0`: always a thread)"""
    # A strategy task left unacknowledged this long by a live-looking consumer
    # is reclaimed by another worker. Workers refresh the idle time of tasks
    # they are running, so only a dead consumer's tasks get this old.
    work_reclaim_idle_ms: Annotated[int, EnvVar("WORK_RECLAIM_IDLE_MS")] = 3000
    """a strategy task unrefreshed this long (its worker died) is reclaimed"""
    # A strategy delivered this many times without a report is recorded failed.
    max_strategy_deliveries: Annotated[int, EnvVar("MAX_STRATEGY_DELIVERIES")] = 3
    """a strategy delivered this often without a report is recorded `failed`"""
    # How often the sweeper looks for lapsed leases. Small, because takeover
    # time is lease TTL plus this.
    sweep_interval_ms: Annotated[int, EnvVar("SWEEP_INTERVAL_MS")] = 200
    """how often each worker looks for lapsed leases"""
    # How often each worker publishes its heartbeat for the admin worker listing
    # and refreshes the connection slots it holds; a worker silent for five beats
    # is gone (keys.WORKER_MISSED_BEATS). A second keeps a dead worker's slots
    # counted for 5 s at most, at one small write per worker per second.
    worker_heartbeat_interval_ms: Annotated[int, EnvVar("WORKER_HEARTBEAT_INTERVAL_MS")] = 1000
    """how often each worker refreshes its entry in the admin worker listing and the connection
    slots it holds; a worker silent for five of these is gone (its slots stop counting)"""
    # How often the generation marker is checked (fail closed after data loss).
    generation_check_interval_ms: Annotated[int, EnvVar("GENERATION_CHECK_INTERVAL_MS")] = 500
    """how often workers check that Redis still holds their data"""
    # An owner publishes progress at most this often; reports landing meanwhile go
    # out together in its next snapshot. The terminal snapshot is never held back.
    publish_min_interval_ms: Annotated[int, EnvVar("PUBLISH_MIN_INTERVAL_MS")] = 25
    """an owner publishes progress at most this often (reports meanwhile go out together); the
    terminal snapshot is never held back"""
    # How often a worker rechecks, in one round trip, the mailboxes of every scan
    # it owns for mail whose doorbell was lost (pub/sub drops what is published
    # while it reconnects): a missed bell costs at most this. Also how soon a
    # fold step that failed on a Redis error is retried.
    mailbox_poll_interval_ms: Annotated[int, EnvVar("MAILBOX_POLL_INTERVAL_MS")] = 1000
    """how often a worker rechecks, in one round trip, the mailboxes of all the scans it owns
    for mail whose doorbell was lost; retry delay of a failed fold step"""
    # How long a blocking read of the work stream waits before looping: a second
    # bounds how late a stopping worker notices, at one idle read per second.
    # Below the Redis client's socket timeout (WORK_BLOCK_MAX_MS).
    work_block_ms: Annotated[int, EnvVar("WORK_BLOCK_MS")] = 1000
    """how long a worker's blocking read of the work streams waits before it loops; at most 4000
    (under the Redis client's 5 s socket timeout)"""
    # Number of hash-tagged buckets the cross-scan indexes and work streams are
    # sharded into, so no single Redis Cluster slot holds them all.
    index_buckets: Annotated[int, EnvVar("INDEX_BUCKETS")] = 4
    """shards of the lease index and work streams (hash-tagged, Cluster-ready)"""
    # The most scans one process owns at once; past it the sweeper leaves
    # lapsed scans to other workers.
    max_owned_scans: Annotated[int, EnvVar("MAX_OWNED_SCANS")] = 20000
    """most scans one process owns at once"""
    # Scans a user can list (newest first) in GET /api/v1/scans: a page of a
    # screen's worth, and the bound of the user's history index.
    user_history_limit: Annotated[int, EnvVar("USER_HISTORY_LIMIT")] = 50
    """how many of a user's scans `GET /api/v1/scans` lists (newest first); older ones leave the
    list but stay readable by id until their retention ends"""
    # Scans one user may start per rate window (429 with Retry-After beyond).
    # Reading back an active or idempotent scan does not count.
    scan_starts_per_window: Annotated[int, EnvVar("SCAN_STARTS_PER_WINDOW")] = 30
    """scans one user may start per `RATE_WINDOW_S`; beyond, `429` with `Retry-After` (reading
    back an active scan does not count)"""
    rate_window_s: Annotated[int, EnvVar("RATE_WINDOW_S")] = 60
    """the window of `SCAN_STARTS_PER_WINDOW`"""
    # Largest accepted request body, in bytes (413 beyond).
    max_body_bytes: Annotated[int, EnvVar("MAX_BODY_BYTES")] = 16 * 1024
    """larger request bodies get `413`"""
    # Most symbols one scan may name: a scan's CPU grows with its symbols (about
    # 2 ms each for a full scan, bench/strategy_bench.py).
    max_symbols_per_scan: Annotated[int, EnvVar("MAX_SYMBOLS_PER_SCAN")] = 50
    """most symbols one scan may name (`422` beyond)"""
    # Seconds a client is told to wait (Retry-After) when Redis is unavailable:
    # workers reconnect within about a second (BACKOFF_CAP_S), so two is enough.
    retry_after_s: Annotated[int, EnvVar("RETRY_AFTER_S")] = 2
    """the `Retry-After` of a `503` while Redis is unavailable"""
    # Longest a request's `Prefer: wait=N` may hold it (POST waits for the scan's end,
    # a conditional GET for a newer version); a longer wait is cut to this and says so
    # in Preference-Applied. Under common proxies' idle timeouts.
    prefer_wait_max_s: Annotated[int, EnvVar("PREFER_WAIT_MAX_S")] = 30
    """longest a request's `Prefer: wait=N` holds it; a longer wait is cut to this
    (`Preference-Applied` says so); `0`: no waits"""
    # How long a verified token stays in the per-process verification cache: a
    # minute saves the signature check on every poll, and is the longest a
    # token signed with a secret no longer configured keeps working.
    token_cache_ttl_s: Annotated[int, EnvVar("TOKEN_CACHE_TTL_S")] = 60
    """how long a worker trusts a token it verified before checking it again (never past its
    `exp`); `0`: check every request"""
    # Evidence (see docs/strategies.md). Slippage each fill pays in the walk-forward
    # replay, on top of the market's taker fee: 2 bps is about half the quoted
    # spread of a liquid major; thinner coins slip more, so set it to your market.
    slippage_bps: Annotated[float, EnvVar("SLIPPAGE_BPS")] = 2.0
    """slippage each fill pays in the walk-forward replay, on top of the market's taker fee
    (both ways)"""
    # The replay runs a rule at every this many hourly bars: every bar would cost four
    # times the CPU, and a signal a rule gives on one bar it mostly gives on the next.
    # 4 keeps all 14 strategies on the bundled year under a minute of one core.
    evidence_stride_bars: Annotated[int, EnvVar("EVIDENCE_STRIDE_BARS")] = 4
    """the replay runs each rule at every this many hourly bars"""
    # Whether this process computes evaluations (in a child process) when its scans
    # need one that nobody has computed; it always reads those computed elsewhere.
    evidence_compute: Annotated[bool, EnvVar("EVIDENCE_COMPUTE")] = True
    """this worker computes evaluations its scans need and nobody has (in a child process);
    `0`: it only reads them"""
    # A computing worker's lock on an evaluation lapses this long after its last
    # refresh (it refreshes every third of it): a crashed worker's evaluation is
    # taken over by another within this. Longer than any pause of a healthy loop.
    evidence_lock_ttl_s: Annotated[float, EnvVar("EVIDENCE_LOCK_TTL_S")] = 30.0
    """a computing worker's lock lapses this long after its last refresh (refreshed every
    third): a crashed worker's evaluation is taken over within it"""
    # An evaluation stays in Redis this long after it was computed: a data version
    # that stopped being served (a live source moves on every hour) is forgotten.
    evidence_retention_s: Annotated[int, EnvVar("EVIDENCE_RETENTION_S")] = 7 * 24 * 3600
    """how long an evaluation stays in Redis (a live source's data version moves every
    hour)"""
    # How often a worker checks for a new data version and for evaluations other
    # workers finished: how late, at most, evidence appears after it is computed.
    evidence_poll_interval_s: Annotated[float, EnvVar("EVIDENCE_POLL_INTERVAL_S")] = 2.0
    """how often a worker looks for a new data version and evaluations others finished"""
    # ---- token checks, operations endpoints, per-user connection limits ----
    # Clock skew allowed on a token's exp, nbf and iat: the issuer's clock and ours
    # differ by seconds in practice; 30 s forgives that and nothing a stolen token needs.
    jwt_leeway_s: Annotated[int, EnvVar("JWT_LEEWAY_S")] = 30
    """clock skew allowed on a token's `exp`, `nbf` and `iat`"""
    # When set, a token must carry this `aud` / `iss` (missing or different: 401).
    jwt_audience: Annotated[str | None, EnvVar("JWT_AUDIENCE")] = None
    """when set, tokens must carry this `aud`; unset, a token naming an audience is refused"""
    jwt_issuer: Annotated[str | None, EnvVar("JWT_ISSUER")] = None
    """when set, tokens must carry this `iss`"""
    # The secret before the last rotation: verifies tokens still, never signs.
    jwt_secret_previous: Annotated[str, EnvVar("JWT_SECRET_PREVIOUS", shown_as=hidden)] = ""
    """the secret before a rotation: still verifies tokens, never signs (at least 32 bytes, not
    `JWT_SECRET`)"""
    # When set, GET /metrics needs `Authorization: Bearer <metrics_token>`.
    metrics_token: Annotated[str, EnvVar("METRICS_TOKEN", shown_as=hidden)] = ""
    """when set, `GET /metrics` needs `Authorization: Bearer <it>` (compared in constant time);
    unset, `/metrics` is public"""
    # Long-lived connections one user holds at once across the service: open
    # websockets, and requests held by `Prefer: wait`. 16 each is more than a user
    # with a few tabs and a CLI needs, and caps what one token can pin down.
    ws_per_user_max: Annotated[int, EnvVar("WS_PER_USER_MAX")] = 16
    """websockets one user holds open at once across the service; beyond, `429` with
    `Retry-After`"""
    waits_per_user_max: Annotated[int, EnvVar("WAITS_PER_USER_MAX")] = 16
    """`Prefer: wait` requests one user holds open at once across the service; beyond, `429`
    with `Retry-After`"""
    # Requests answered 401 from one client address per window before it gets 429
    # (every request from it, valid token or not, until the window ends): one a
    # second on average, far below guessing speed, far above any honest client.
    auth_failures_per_window: Annotated[int, EnvVar("AUTH_FAILURES_PER_WINDOW")] = 60
    """401s one client address gets per `AUTH_FAILURE_WINDOW_S`; beyond, every request from it
    is `429` until the window ends"""
    auth_failure_window_s: Annotated[int, EnvVar("AUTH_FAILURE_WINDOW_S")] = 60
    """the window of `AUTH_FAILURES_PER_WINDOW`"""
    # Peer addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For
    # names the client; from any other peer the peer address is the client.
    trusted_proxies: Annotated[tuple[str, ...], EnvVar("TRUSTED_PROXIES")] = ()
    """comma-separated addresses or CIDR networks of reverse proxies whose `X-Forwarded-For`
    names the client (else the client is the peer address)"""
    # Identity of this process, `host:pid`, filled in by load_settings: not a
    # setting (every process has its own), so it has no environment name.
    worker_id: str = ""
    log_level: Annotated[str, EnvVar("LOG_LEVEL")] = "info"
    """structlog level (JSON lines off a terminal)"""

    @property
    def lease_ttl_s(self) -> float:
        return self.lease_ttl_ms / 1000

    @property
    def lease_renew_interval_s(self) -> float:
        # Renew three times per TTL, so two consecutive failed renewals still
        # leave a third chance before the lease lapses.
        return self.lease_ttl_s / 3

    @property
    def lease_safety_margin_s(self) -> float:
        # An owner stops writing this long before its lease would lapse by its
        # own clock, to absorb clock-rate differences with Redis.
        return self.lease_ttl_s / 10

    @property
    def work_heartbeat_interval_s(self) -> float:
        # Refresh running tasks' idle time three times per reclaim window.
        return self.work_reclaim_idle_ms / 3000

    @property
    def reclaim_interval_s(self) -> float:
        return self.work_reclaim_idle_ms / 4000

    @property
    def evidence_lock_refresh_interval_s(self) -> float:
        # Refresh three times per TTL, so two failed refreshes still leave a third.
        return self.evidence_lock_ttl_s / 3

    @property
    def pid(self) -> int:
        return int(self.worker_id.rsplit(":", 1)[1])


# HS256 keys shorter than the hash's output (RFC 7518 3.2) can be guessed offline
# from one token; 32 bytes is also what PyJWT warns below.
JWT_SECRET_MIN_BYTES = 32
JWT_SECRET_HINT = (
    "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`, "
    "or develop with `oppscan serve --dev`"
)
LOOPBACK_NAMES = frozenset({"localhost"})


def env_vars() -> dict[str, EnvVar]:
    """Each setting field's EnvVar, in field order (worker_id, not a setting, has none)."""
    return {
        field.name: mark
        for field in msgspec.structs.fields(Settings)
        for mark in getattr(field.type, "__metadata__", ())
        if isinstance(mark, EnvVar)
    }


# Environment name -> field name, for every setting.
ENV_NAMES: Mapping[str, str] = {mark.name: field for field, mark in env_vars().items()}


def parse_env_value(field_name: str, raw: str) -> Any:
    """Turn an environment string into the raw value msgspec converts and checks."""
    if field_name in ("default_strategies", "trusted_proxies"):
        return [name.strip() for name in raw.split(",") if name.strip()]
    if field_name in ("dev_mode", "diagnostic_strategies", "evidence_compute"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def load_settings(
    env: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
    *,
    require_secret: bool = True,
) -> Settings:
    """Settings from the TOML file (if any), overridden by the environment."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    path = Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else toml_path
    path = path or DEFAULT_TOML_PATH
    if path.exists():
        raw.update(tomllib.loads(path.read_text()))
    for env_name, field_name in ENV_NAMES.items():
        if env_name in env and env[env_name] != "":
            raw[field_name] = parse_env_value(field_name, env[env_name])
    raw.setdefault("worker_id", f"{socket.gethostname()}:{os.getpid()}")
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec names the field (`$.lease_ttl_ms`); the user set its env name.
        field = str(exc).rpartition("$.")[2].strip("`")
        names = [env_name for env_name, name in ENV_NAMES.items() if name == field]
        raise SettingsError(names[0] if names else "environment", str(exc)) from None
    return validate(settings, require_secret=require_secret)


# Counts and intervals where 0 would mean "never" or "spin": at least 1.
AT_LEAST_ONE = (
    "INDEX_BUCKETS",
    "MAX_STRATEGY_DELIVERIES",
    "STRATEGY_CONCURRENCY",
    "STRATEGY_TASKS_IN_FLIGHT",
    "SWEEP_INTERVAL_MS",
    "WORK_RECLAIM_IDLE_MS",
    "GENERATION_CHECK_INTERVAL_MS",
    "MAILBOX_POLL_INTERVAL_MS",
    "WEB_CONCURRENCY",
    "MAX_OWNED_SCANS",
    "MAX_BODY_BYTES",
    "SCAN_STARTS_PER_WINDOW",
    "RATE_WINDOW_S",
    "EVIDENCE_STRIDE_BARS",
    "EVIDENCE_RETENTION_S",
    "WS_PER_USER_MAX",
    "WAITS_PER_USER_MAX",
    "AUTH_FAILURES_PER_WINDOW",
    "AUTH_FAILURE_WINDOW_S",
    "WORKER_HEARTBEAT_INTERVAL_MS",
    "WORK_BLOCK_MS",
    "USER_HISTORY_LIMIT",
    "MAX_SYMBOLS_PER_SCAN",
    "RETRY_AFTER_S",
)
# A blocking read of the work stream must return before the Redis client's socket
# timeout (5 s, coordinator.store.redis_client) takes the connection for dead.
WORK_BLOCK_MAX_MS = 4000
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate(settings: Settings, *, require_secret: bool = True) -> Settings:
    """``settings``, or SettingsError naming the first bad one. ``require_secret=False``
    is for commands that never verify or sign a token (`oppscan data check`): an unset
    secret is then allowed, a short one still refused."""
    secret_bytes = len(settings.jwt_secret.encode())
    if secret_bytes < JWT_SECRET_MIN_BYTES and (require_secret or secret_bytes):
        problem = "not set" if not secret_bytes else f"only {secret_bytes} bytes"
        raise SettingsError(
            "JWT_SECRET",
            f"{problem}; at least {JWT_SECRET_MIN_BYTES} bytes are required ({JWT_SECRET_HINT})",
        )
    if settings.redis_url:
        check_redis_url(settings.redis_url)
    if settings.dev_mode and not is_loopback(settings.host):
        raise SettingsError(
            "HOST",
            f"{settings.host} is not a loopback address: development mode listens on "
            "loopback only (leave development mode to listen elsewhere)",
        )
    if settings.lease_ttl_ms < 100:
        raise SettingsError("LEASE_TTL_MS", "must be at least 100")
    if settings.scan_deadline_s <= 0:
        raise SettingsError("SCAN_DEADLINE_S", "must be positive")
    if settings.result_retention_s <= 0:
        raise SettingsError("RESULT_RETENTION_S", "must be positive")
    if settings.started_notice_delay_ms < 0:
        raise SettingsError("STARTED_NOTICE_DELAY_MS", "must be 0 or more")
    if settings.publish_min_interval_ms < 0:
        raise SettingsError("PUBLISH_MIN_INTERVAL_MS", "must be 0 or more")
    if settings.strategy_inline_budget_ms < 0:
        raise SettingsError("STRATEGY_INLINE_BUDGET_MS", "must be 0 or more")
    if settings.slippage_bps < 0:
        raise SettingsError("SLIPPAGE_BPS", "must be 0 or more")
    for env_name in (
        "STALE_DATA_S",
        "DATA_MAX_GAP_S",
        "EVIDENCE_LOCK_TTL_S",
        "EVIDENCE_POLL_INTERVAL_S",
    ):
        if getattr(settings, ENV_NAMES[env_name]) <= 0:
            raise SettingsError(env_name, "must be positive")
    for env_name in ("PREFER_WAIT_MAX_S", "TOKEN_CACHE_TTL_S"):
        if getattr(settings, ENV_NAMES[env_name]) < 0:
            raise SettingsError(env_name, "must be 0 or more")
    for env_name in AT_LEAST_ONE:
        if getattr(settings, ENV_NAMES[env_name]) < 1:
            raise SettingsError(env_name, "must be at least 1")
    if settings.work_block_ms > WORK_BLOCK_MAX_MS:
        raise SettingsError("WORK_BLOCK_MS", f"must be at most {WORK_BLOCK_MAX_MS}")
    if settings.log_level.upper() not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"must be one of {', '.join(sorted(LOG_LEVELS))}")
    validate_edge(settings)
    return settings


# A previous secret is as good as the current one for a forger while it is accepted.
JWT_SECRET_PREVIOUS_MIN_BYTES = 32


def validate_edge(settings: Settings) -> None:
    """Token checks, the metrics token, connection limits and trusted proxies."""
    if settings.jwt_leeway_s < 0:
        raise SettingsError("JWT_LEEWAY_S", "must be 0 or more")
    previous = settings.jwt_secret_previous
    if previous and len(previous.encode()) < JWT_SECRET_PREVIOUS_MIN_BYTES:
        raise SettingsError(
            "JWT_SECRET_PREVIOUS", f"must be at least {JWT_SECRET_PREVIOUS_MIN_BYTES} bytes"
        )
    if previous and previous == settings.jwt_secret:
        raise SettingsError("JWT_SECRET_PREVIOUS", "must differ from JWT_SECRET")
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                "TRUSTED_PROXIES", f"{proxy!r} is not an IP address or CIDR network"
            ) from None
