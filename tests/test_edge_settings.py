"""Settings of token checks, the metrics token, connection limits and trusted
proxies: read from their environment names, refused with the name when wrong."""

from __future__ import annotations

import pytest

from config.errors import SettingsError
from config.settings import load_settings

SECRET = "s" * 32


def load(tmp_path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"JWT_SECRET": SECRET, **env}, toml_path=tmp_path / "none.toml")


def test_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load(tmp_path)
    assert settings.jwt_leeway_s == 30
    assert settings.jwt_audience is None and settings.jwt_issuer is None
    assert settings.jwt_secret_previous == "" and settings.metrics_token == ""
    assert (settings.ws_per_user_max, settings.waits_per_user_max) == (16, 16)
    assert settings.trusted_proxies == ()


def test_read_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load(
        tmp_path,
        JWT_LEEWAY_S="5",
        JWT_AUDIENCE="oppscan",
        JWT_ISSUER="https://idp.example",
        JWT_SECRET_PREVIOUS="p" * 32,
        METRICS_TOKEN="m" * 24,
        WS_PER_USER_MAX="4",
        WAITS_PER_USER_MAX="3",
        AUTH_FAILURES_PER_WINDOW="10",
        AUTH_FAILURE_WINDOW_S="30",
        TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1",
    )
    assert settings.jwt_leeway_s == 5
    assert (settings.jwt_audience, settings.jwt_issuer) == ("oppscan", "https://idp.example")
    assert settings.jwt_secret_previous == "p" * 32 and settings.metrics_token == "m" * 24
    assert (settings.ws_per_user_max, settings.waits_per_user_max) == (4, 3)
    assert (settings.auth_failures_per_window, settings.auth_failure_window_s) == (10, 30)
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.1")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JWT_LEEWAY_S", "-1"),
        ("JWT_SECRET_PREVIOUS", "short"),
        ("JWT_SECRET_PREVIOUS", SECRET),  # the current secret is no previous one
        ("WS_PER_USER_MAX", "0"),
        ("WAITS_PER_USER_MAX", "0"),
        ("AUTH_FAILURES_PER_WINDOW", "0"),
        ("AUTH_FAILURE_WINDOW_S", "0"),
        ("TRUSTED_PROXIES", "proxy.internal"),
    ],
)
def test_bad_values_name_their_setting(tmp_path, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as refused:
        load(tmp_path, **{name: value})
    assert refused.value.name == name
