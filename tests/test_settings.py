"""Settings: the contract's environment names, validation, derived durations."""

from __future__ import annotations

import msgspec
import pytest

from config.errors import SettingsError
from config.settings import DEV_JWT_SECRET, load_settings


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
    path.write_text('jwt_secret = "from-toml-secret"\nport = 7000\n')
    settings = load_settings({"PORT": "7001"}, toml_path=path)
    assert settings.jwt_secret == "from-toml-secret" and settings.port == 7001


def test_a_secret_is_required_outside_development(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as caught:
        load_settings({}, toml_path=tmp_path / "none.toml")
    assert caught.value.name == "JWT_SECRET"
    assert (
        load_settings({"DEV_MODE": "1"}, toml_path=tmp_path / "none.toml").jwt_secret
        == DEV_JWT_SECRET
    )


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
    from coordinator.generation import GenerationGuard
    from coordinator.scans import Scans
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
