"""One frozen Settings struct, built from the environment and an optional TOML file.

Every duration carries its unit in its name. Values derived from settings are
derived here, in properties, and nowhere else.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from config.errors import SettingsError
from config.redis_url import check as check_redis_url

# Settings that are part of the public contract are read from these names.
DEFAULT_TOML_PATH = Path(__file__).with_name("settings.toml")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Where Redis is; None means "start an embedded redis-server" (loopback only,
    # with a random password kept in the data directory).
    redis_url: str | None = None
    # HS256 secret of bearer tokens: always required, at least JWT_SECRET_MIN_BYTES
    # (`oppscan serve --dev` supplies a random one kept in the data directory).
    jwt_secret: str = ""
    # Development mode: loopback only, and POST /api/v1/dev/token mints
    # non-admin tokens for the page.
    dev_mode: bool = False
    port: int = 8080
    host: str = "127.0.0.1"
    # Gunicorn worker processes of the `web` process type.
    web_concurrency: int = 2
    # How long an owner's lease lasts without renewal. 5 s: long enough that a
    # GC pause or a busy loop never loses it, short enough that a dead owner's
    # scan is running again in seconds.
    lease_ttl_ms: int = 5000
    # A scan still running this long after creation ends `partial`.
    scan_deadline_s: float = 150.0
    # How long a terminal scan's keys (snapshot, results, timeline) are kept.
    result_retention_s: int = 3600
    # How long after retention a tombstone lets the owner read "expired" (410).
    tombstone_retention_s: int = 7 * 24 * 3600
    # Simulated exchange round trip per market-data fetch of the bundled provider.
    market_data_latency_ms: int = 0
    # Market-data source: bundled | files | ccxt.
    market_data_source: str = "bundled"
    market_data_dir: str | None = None
    # The files source leaves out a symbol whose last hourly candle is more than this
    # older than the newest one (the snapshot's as-of) instead of moving the as-of
    # back: one candle behind is a download that crossed an hour boundary, more is a
    # pair that stopped trading or a file nobody updated.
    stale_data_s: float = 3600.0
    # A data file with a step between candles longer than this is unusable: exchange
    # outages last hours, a day or more missing is a hole in the file, and the
    # strategies' indicators would read across it as if it were one bar.
    data_max_gap_s: float = 86400.0
    # Strategies a scan runs when its request names none (empty: all real ones).
    default_strategies: tuple[str, ...] = ()
    # Registers the noop/sleep/explode strategies tests and benchmarks use.
    diagnostic_strategies: bool = False
    # Strategies one process runs in threads at once; strategies are CPU-light and
    # mostly wait on market data, so a few per core.
    strategy_concurrency: int = 8
    # Strategy tasks one process holds at once (taken, not yet acknowledged). It
    # takes more than it has threads for only while its recent runs were all quick
    # enough for the event loop: then a task's report and acknowledgement, not its
    # run, are most of its time. Slow work is left to other processes to take.
    strategy_tasks_in_flight: int = 32
    # A first attempt says it started (the scan shows it running) only once it has
    # run this long: most strategies finish sooner, and their report alone tells
    # the owner when they started, at half the mailbox traffic. Retries say so at
    # once, so a late report of the attempt they replace is seen as superseded.
    started_notice_delay_ms: int = 50
    # A strategy whose recent runs all took at most this long runs on the event
    # loop instead of in a thread: cheaper than the thread hop, and a stall this
    # short is far below anything the loop does on a schedule. 0: always a thread.
    strategy_inline_budget_ms: float = 1.0
    # A strategy task left unacknowledged this long by a live-looking consumer
    # is reclaimed by another worker. Workers refresh the idle time of tasks
    # they are running, so only a dead consumer's tasks get this old.
    work_reclaim_idle_ms: int = 3000
    # A strategy delivered this many times without a report is recorded failed.
    max_strategy_deliveries: int = 3
    # How often the sweeper looks for lapsed leases. Small, because takeover
    # time is lease TTL plus this.
    sweep_interval_ms: int = 200
    # How often each worker publishes its heartbeat for the admin worker listing.
    worker_heartbeat_interval_ms: int = 1000
    # How often the generation marker is checked (fail closed after data loss).
    generation_check_interval_ms: int = 500
    # An owner publishes progress at most this often; reports landing meanwhile go
    # out together in its next snapshot. The terminal snapshot is never held back.
    publish_min_interval_ms: int = 25
    # How often a worker rechecks, in one round trip, the mailboxes of every scan
    # it owns for mail whose doorbell was lost (pub/sub drops what is published
    # while it reconnects): a missed bell costs at most this. Also how soon a
    # fold step that failed on a Redis error is retried.
    mailbox_poll_interval_ms: int = 1000
    # How long a blocking read of the work stream waits before looping.
    work_block_ms: int = 1000
    # Number of hash-tagged buckets the cross-scan indexes and work streams are
    # sharded into, so no single Redis Cluster slot holds them all.
    index_buckets: int = 4
    # The most scans one process owns at once; past it the sweeper leaves
    # lapsed scans to other workers.
    max_owned_scans: int = 20000
    # Scans a user can list (newest first) in GET /api/v1/scans.
    user_history_limit: int = 50
    # Scans one user may start per rate window (429 with Retry-After beyond).
    # Reading back an active or idempotent scan does not count.
    scan_starts_per_window: int = 30
    rate_window_s: int = 60
    # Largest accepted request body, in bytes (413 beyond).
    max_body_bytes: int = 16 * 1024
    # Most symbols one scan may name.
    max_symbols_per_scan: int = 50
    # Seconds a client is told to wait (Retry-After) when Redis is unavailable.
    retry_after_s: int = 2
    # Longest a request's `Prefer: wait=N` may hold it (POST waits for the scan's end,
    # a conditional GET for a newer version); a longer wait is cut to this and says so
    # in Preference-Applied. Under common proxies' idle timeouts.
    prefer_wait_max_s: int = 30
    # How long a verified token stays in the per-process verification cache.
    token_cache_ttl_s: int = 60
    # Evidence (see docs/strategies.md). Slippage each fill pays in the walk-forward
    # replay, on top of the market's taker fee: 2 bps is about half the quoted
    # spread of a liquid major; thinner coins slip more, so set it to your market.
    slippage_bps: float = 2.0
    # The replay runs a rule at every this many hourly bars: every bar would cost four
    # times the CPU, and a signal a rule gives on one bar it mostly gives on the next.
    # 4 keeps all 14 strategies on the bundled year under a minute of one core.
    evidence_stride_bars: int = 4
    # Whether this process computes evaluations (in a child process) when its scans
    # need one that nobody has computed; it always reads those computed elsewhere.
    evidence_compute: bool = True
    # A computing worker's lock on an evaluation lapses this long after its last
    # refresh (it refreshes every third of it): a crashed worker's evaluation is
    # taken over by another within this. Longer than any pause of a healthy loop.
    evidence_lock_ttl_s: float = 30.0
    # An evaluation stays in Redis this long after it was computed: a data version
    # that stopped being served (a live source moves on every hour) is forgotten.
    evidence_retention_s: int = 7 * 24 * 3600
    # How often a worker checks for a new data version and for evaluations other
    # workers finished: how late, at most, evidence appears after it is computed.
    evidence_poll_interval_s: float = 2.0
    # ---- token checks, operations endpoints, per-user connection limits ----
    # Clock skew allowed on a token's exp, nbf and iat: the issuer's clock and ours
    # differ by seconds in practice; 30 s forgives that and nothing a stolen token needs.
    jwt_leeway_s: int = 30
    # When set, a token must carry this `aud` / `iss` (missing or different: 401).
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # The secret before the last rotation: verifies tokens still, never signs.
    jwt_secret_previous: str = ""
    # When set, GET /metrics needs `Authorization: Bearer <metrics_token>`.
    metrics_token: str = ""
    # Long-lived connections one user holds at once across the service: open
    # websockets, and requests held by `Prefer: wait`. 16 each is more than a user
    # with a few tabs and a CLI needs, and caps what one token can pin down.
    ws_per_user_max: int = 16
    waits_per_user_max: int = 16
    # Requests answered 401 from one client address per window before it gets 429
    # (every request from it, valid token or not, until the window ends): one a
    # second on average, far below guessing speed, far above any honest client.
    auth_failures_per_window: int = 60
    auth_failure_window_s: int = 60
    # Peer addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For
    # names the client; from any other peer the peer address is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Identity of this process, `host:pid`; filled in by load_settings.
    worker_id: str = ""
    log_level: str = "info"

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

ENV_NAMES: Mapping[str, str] = {
    "REDIS_URL": "redis_url",
    "JWT_SECRET": "jwt_secret",
    "DEV_MODE": "dev_mode",
    "PORT": "port",
    "HOST": "host",
    "WEB_CONCURRENCY": "web_concurrency",
    "LEASE_TTL_MS": "lease_ttl_ms",
    "SCAN_DEADLINE_S": "scan_deadline_s",
    "RESULT_RETENTION_S": "result_retention_s",
    "TOMBSTONE_RETENTION_S": "tombstone_retention_s",
    "MARKET_DATA_LATENCY_MS": "market_data_latency_ms",
    "MARKET_DATA_SOURCE": "market_data_source",
    "MARKET_DATA_DIR": "market_data_dir",
    "STALE_DATA_S": "stale_data_s",
    "DATA_MAX_GAP_S": "data_max_gap_s",
    "DEFAULT_STRATEGIES": "default_strategies",
    "DIAGNOSTIC_STRATEGIES": "diagnostic_strategies",
    "STRATEGY_CONCURRENCY": "strategy_concurrency",
    "STRATEGY_TASKS_IN_FLIGHT": "strategy_tasks_in_flight",
    "STARTED_NOTICE_DELAY_MS": "started_notice_delay_ms",
    "STRATEGY_INLINE_BUDGET_MS": "strategy_inline_budget_ms",
    "WORK_RECLAIM_IDLE_MS": "work_reclaim_idle_ms",
    "MAX_STRATEGY_DELIVERIES": "max_strategy_deliveries",
    "SWEEP_INTERVAL_MS": "sweep_interval_ms",
    "GENERATION_CHECK_INTERVAL_MS": "generation_check_interval_ms",
    "MAILBOX_POLL_INTERVAL_MS": "mailbox_poll_interval_ms",
    "PUBLISH_MIN_INTERVAL_MS": "publish_min_interval_ms",
    "INDEX_BUCKETS": "index_buckets",
    "MAX_OWNED_SCANS": "max_owned_scans",
    "MAX_BODY_BYTES": "max_body_bytes",
    "PREFER_WAIT_MAX_S": "prefer_wait_max_s",
    "SCAN_STARTS_PER_WINDOW": "scan_starts_per_window",
    "RATE_WINDOW_S": "rate_window_s",
    "SLIPPAGE_BPS": "slippage_bps",
    "EVIDENCE_STRIDE_BARS": "evidence_stride_bars",
    "EVIDENCE_COMPUTE": "evidence_compute",
    "EVIDENCE_LOCK_TTL_S": "evidence_lock_ttl_s",
    "EVIDENCE_RETENTION_S": "evidence_retention_s",
    "EVIDENCE_POLL_INTERVAL_S": "evidence_poll_interval_s",
    "LOG_LEVEL": "log_level",
    "JWT_LEEWAY_S": "jwt_leeway_s",
    "JWT_AUDIENCE": "jwt_audience",
    "JWT_ISSUER": "jwt_issuer",
    "JWT_SECRET_PREVIOUS": "jwt_secret_previous",
    "METRICS_TOKEN": "metrics_token",
    "WS_PER_USER_MAX": "ws_per_user_max",
    "WAITS_PER_USER_MAX": "waits_per_user_max",
    "AUTH_FAILURES_PER_WINDOW": "auth_failures_per_window",
    "AUTH_FAILURE_WINDOW_S": "auth_failure_window_s",
    "TRUSTED_PROXIES": "trusted_proxies",
}


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
    path = Path(env.get("OPPSCAN_CONFIG", "")) if env.get("OPPSCAN_CONFIG") else toml_path
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
)
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
    if settings.prefer_wait_max_s < 0:
        raise SettingsError("PREFER_WAIT_MAX_S", "must be 0 or more")
    for env_name in AT_LEAST_ONE:
        if getattr(settings, ENV_NAMES[env_name]) < 1:
            raise SettingsError(env_name, "must be at least 1")
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
