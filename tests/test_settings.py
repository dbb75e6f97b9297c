"""Settings: the contract's environment names, validation, derived durations."""

from __future__ import annotations

import msgspec
import pytest

from config.errors import SettingsError
from config.settings import JWT_SECRET_MIN_BYTES, WORK_BLOCK_MAX_MS, load_settings
from coordinator.store.redis_client import SOCKET_TIMEOUT_S


def test_contract_names_are_read_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        {
            "REDIS_URL": "redis://r:1/0",
            "JWT_SECRET": "s" * 32,
            "PORT": "9000",
            "WEB_CONCURRENCY": "3",
            "LEASE_TTL_MS": "3000",
            "SCAN_DEADLINE_S": "60",
            "RESULT_RETENTION_S": "120",
            "MARKET_DATA_LATENCY_MS": "25",
            "DEFAULT_STRATEGIES": "breakout, trend_momentum",
            "PREFER_WAIT_MAX_S": "12",
            "STALE_DATA_S": "7200",
            "DATA_MAX_GAP_S": "43200",
        },
        toml_path=tmp_path / "none.toml",
    )
    assert (settings.redis_url, settings.port, settings.web_concurrency) == (
        "redis://r:1/0",
        9000,
        3,
    )
    assert settings.lease_ttl_ms == 3000 and settings.lease_renew_interval_s == 1.0
    assert settings.scan_deadline_s == 60 and settings.result_retention_s == 120
    assert settings.market_data_latency_ms == 25
    assert settings.default_strategies == ("breakout", "trend_momentum")
    assert settings.prefer_wait_max_s == 12
    assert (settings.stale_data_s, settings.data_max_gap_s) == (7200, 43200)
    host, pid = settings.worker_id.rsplit(":", 1)
    assert host and int(pid) == settings.pid


def test_toml_file_is_overridden_by_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "settings.toml"
    path.write_text('jwt_secret = "from-toml-secret-of-at-least-32-bytes"\nport = 7000\n')
    settings = load_settings({"PORT": "7001"}, toml_path=path)
    assert settings.jwt_secret == "from-toml-secret-of-at-least-32-bytes" and settings.port == 7001


@pytest.mark.parametrize("dev_mode", ["0", "1"])
def test_a_secret_of_32_bytes_is_required_in_every_mode(dev_mode: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No mode falls back to a constant secret: `oppscan serve --dev` supplies a
    random one from the data directory instead."""
    none = tmp_path / "none.toml"
    for secret in ("", "s" * (JWT_SECRET_MIN_BYTES - 1), "é" * (JWT_SECRET_MIN_BYTES // 2 - 1)):
        with pytest.raises(SettingsError) as caught:
            load_settings({"DEV_MODE": dev_mode, "JWT_SECRET": secret}, toml_path=none)
        assert caught.value.name == "JWT_SECRET"
        assert "32 bytes" in str(caught.value)
    enough = "é" * (JWT_SECRET_MIN_BYTES // 2)  # 32 bytes in UTF-8, 16 characters
    assert load_settings({"DEV_MODE": dev_mode, "JWT_SECRET": enough}, toml_path=none).jwt_secret


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "example.com", "127.0.0.1.nip.io"])
def test_development_mode_refuses_a_host_that_is_not_loopback(host: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"JWT_SECRET": "s" * 32, "DEV_MODE": "1", "HOST": host}
    with pytest.raises(SettingsError) as caught:
        load_settings(env, toml_path=tmp_path / "none.toml")
    assert caught.value.name == "HOST" and host in str(caught.value)
    assert load_settings({**env, "DEV_MODE": "0"}, toml_path=tmp_path / "none.toml").host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_development_mode_accepts_loopback_hosts(host: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"JWT_SECRET": "s" * 32, "DEV_MODE": "1", "HOST": host}
    assert load_settings(env, toml_path=tmp_path / "none.toml").dev_mode


@pytest.mark.parametrize(
    "url",
    [
        "hunter2-secret",
        "http://:hunter2-secret@db:6379/0",
        "redis+sentinel://:hunter2-secret@/svc",
        "redis+sentinel://:hunter2-secret@s1:26379/svc?sentinel_pasword=x",
        "redis://:hunter2-secret@db:port/0",
        "redis+cluster://:hunter2-secret@db:7000?socket_timeout=soon",
    ],
)
def test_a_redis_url_no_client_could_use_is_refused_with_its_password_hidden(
    url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as caught:
        load_settings({"JWT_SECRET": "s" * 32, "REDIS_URL": url}, toml_path=tmp_path / "none.toml")
    assert caught.value.name == "REDIS_URL"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "env",
    [
        {"LEASE_TTL_MS": "ten"},
        {"LEASE_TTL_MS": "5"},
        {"SCAN_DEADLINE_S": "0"},
        {"SWEEP_INTERVAL_MS": "0"},
        {"WORK_RECLAIM_IDLE_MS": "0"},
        {"STRATEGY_CONCURRENCY": "0"},
        {"LOG_LEVEL": "verbose"},
        {"PREFER_WAIT_MAX_S": "-1"},
        {"STALE_DATA_S": "0"},
        {"DATA_MAX_GAP_S": "-3600"},
        {"DATA_MAX_GAP_S": "a day"},
        {"WORK_BLOCK_MS": "0"},
        {"WORK_BLOCK_MS": "5000"},
        {"WORKER_HEARTBEAT_INTERVAL_MS": "0"},
        {"USER_HISTORY_LIMIT": "0"},
        {"MAX_SYMBOLS_PER_SCAN": "0"},
        {"RETRY_AFTER_S": "0"},
        {"TOKEN_CACHE_TTL_S": "-1"},
        {"SLIPPAGE_BPS": "-1"},
        {"EVIDENCE_STRIDE_BARS": "0"},
        {"EVIDENCE_LOCK_TTL_S": "0"},
        {"EVIDENCE_RETENTION_S": "0"},
        {"EVIDENCE_POLL_INTERVAL_S": "0"},
    ],
)
def test_bad_values_are_named(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as bad:
        load_settings({"JWT_SECRET": "x" * 32, **env}, toml_path=tmp_path / "none.toml")
    assert next(iter(env)) in str(bad.value)


def test_unknown_default_strategies_are_a_startup_error(redis, settings) -> None:  # type: ignore[no-untyped-def]
    from coordinator.service.scans import Scans
    from coordinator.store.generation import GenerationGuard
    from tests.support import StaticProvider, diagnostic_registry

    wrong = msgspec.structs.replace(settings, default_strategies=("noop", "nope"))
    with pytest.raises(SettingsError, match=r"DEFAULT_STRATEGIES.*nope"):
        Scans(
            redis, wrong, diagnostic_registry(), StaticProvider().symbols(), GenerationGuard(redis)
        )


def test_evidence_settings_are_read_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        {
            "JWT_SECRET": "x" * 32,
            "SLIPPAGE_BPS": "3.5",
            "EVIDENCE_STRIDE_BARS": "6",
            "EVIDENCE_COMPUTE": "0",
            "EVIDENCE_LOCK_TTL_S": "12",
            "EVIDENCE_RETENTION_S": "3600",
            "EVIDENCE_POLL_INTERVAL_S": "0.5",
        },
        toml_path=tmp_path / "none.toml",
    )
    assert settings.slippage_bps == 3.5
    assert settings.evidence_stride_bars == 6
    assert settings.evidence_compute is False
    assert settings.evidence_lock_ttl_s == 12.0
    assert settings.evidence_lock_refresh_interval_s == 4.0
    assert settings.evidence_retention_s == 3600
    assert settings.evidence_poll_interval_s == 0.5


def test_a_command_that_signs_nothing_runs_without_a_secret_but_never_with_a_short_one() -> None:
    env = {"STALE_DATA_S": "7200"}
    assert load_settings(env, require_secret=False).stale_data_s == 7200
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings(env)
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings({**env, "JWT_SECRET": "short"}, require_secret=False)


def test_every_setting_is_read_from_its_environment_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        {
            "JWT_SECRET": "s" * 32,
            "WORKER_HEARTBEAT_INTERVAL_MS": "500",
            "WORK_BLOCK_MS": "250",
            "USER_HISTORY_LIMIT": "20",
            "MAX_SYMBOLS_PER_SCAN": "10",
            "RETRY_AFTER_S": "5",
            "TOKEN_CACHE_TTL_S": "0",
        },
        toml_path=tmp_path / "none.toml",
    )
    assert (settings.worker_heartbeat_interval_ms, settings.work_block_ms) == (500, 250)
    assert (settings.user_history_limit, settings.max_symbols_per_scan) == (20, 10)
    assert (settings.retry_after_s, settings.token_cache_ttl_s) == (5, 0)


def test_a_blocking_work_read_ends_before_the_redis_socket_timeout() -> None:
    """WORK_BLOCK_MS is capped below the client's socket timeout, so a healthy blocking
    read is never taken for a dead connection."""
    assert WORK_BLOCK_MAX_MS < SOCKET_TIMEOUT_S * 1000
