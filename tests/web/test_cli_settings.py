"""`oppscan settings`: the effective settings with every secret hidden, the generated
table, and the README rewritten between its markers only (click's CliRunner)."""

from __future__ import annotations

from click.testing import CliRunner, Result

from config import reference
from config.settings import ENV_NAMES
from web.cli import main

EXIT_ERROR = 1
SECRETS = {
    "JWT_SECRET": "current-secret-of-at-least-32-bytes!",
    "JWT_SECRET_PREVIOUS": "previous-secret-of-at-least-32-bytes",
    "METRICS_TOKEN": "scrape-token-hunter2",
}


def invoke(*args: str, tmp_path, **env: str) -> Result:  # type: ignore[no-untyped-def]
    # Nothing of the developer's environment: every setting unset but those given.
    clean: dict[str, str | None] = dict.fromkeys(ENV_NAMES)
    clean["OPPSCAN_CONFIG"] = str(tmp_path / "none.toml")
    return CliRunner().invoke(main, ["settings", *args], env={**clean, **env})


def test_prints_each_setting_with_the_secrets_hidden(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        tmp_path=tmp_path,
        REDIS_URL="redis://:redis-password-hunter2@db:6380/1",
        LEASE_TTL_MS="3000",
        TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1",
        **SECRETS,
    )
    assert result.exit_code == 0, result.output
    values = dict(line.split("=", 1) for line in result.output.splitlines())
    assert list(values) == list(ENV_NAMES)
    assert values["LEASE_TTL_MS"] == "3000" and values["DEV_MODE"] == "0"
    assert values["TRUSTED_PROXIES"] == "10.0.0.0/8,127.0.0.1"
    assert values["REDIS_URL"] == "redis://:***@db:6380/1"
    assert all(values[name] == "***" for name in SECRETS)
    assert "hunter2" not in result.output and "32-bytes" not in result.output


def test_unset_secrets_print_empty_and_need_no_jwt_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    values = dict(line.split("=", 1) for line in result.output.splitlines())
    assert values["JWT_SECRET"] == "" and values["REDIS_URL"] == ""


def test_a_bad_value_is_named_without_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(tmp_path=tmp_path, WORK_BLOCK_MS="soon")
    assert result.exit_code == EXIT_ERROR
    assert "WORK_BLOCK_MS" in result.output and "Traceback" not in result.output


def test_markdown_prints_the_generated_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--markdown", tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output == reference.markdown_table() + "\n"


def test_write_replaces_the_table_between_the_markers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\n{reference.TABLE_BEGIN}\n| stale |\n{reference.TABLE_END}\n\nrest\n"
    )
    result = invoke("--write", str(readme), tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert text.startswith(f"# Title\n\n{reference.TABLE_BEGIN}\n| variable |")
    assert text.endswith(f"{reference.TABLE_END}\n\nrest\n")
    assert reference.table_in(text) == reference.markdown_table()


def test_write_refuses_a_file_without_the_markers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n")
    result = invoke("--write", str(readme), tmp_path=tmp_path)
    assert result.exit_code == EXIT_ERROR and "no settings table" in result.output
    assert readme.read_text() == "# no table here\n"
