"""The data directory and its secrets: private to this user, made once, reused,
and refused rather than trusted when others could have read them."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config.data_dir import (
    DEV_SECRET_FILE,
    SECRET_BYTES,
    private_dir,
    read_secret,
    secret_in,
    with_development_secret,
)
from config.errors import SettingsError

NOBODY_UID = 65534
CONCURRENT_CREATORS = 8


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_directory_is_0700_and_its_secret_0600_made_once(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "data"
    secret = secret_in(directory, DEV_SECRET_FILE)
    assert mode(directory) == 0o700 and mode(directory / DEV_SECRET_FILE) == 0o600
    assert len(secret) >= SECRET_BYTES  # base64 of 32 random bytes
    assert secret_in(directory, DEV_SECRET_FILE) == secret
    assert [p.name for p in directory.iterdir()] == [DEV_SECRET_FILE]  # no temporary left


def test_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(CONCURRENT_CREATORS) as pool:
        made = set(pool.map(lambda _: secret_in(tmp_path / "d", "s"), range(CONCURRENT_CREATORS)))
    assert len(made) == 1


def test_an_existing_directory_of_ours_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    private_dir(directory)
    assert mode(directory) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "theirs"
    directory.mkdir()
    os.chown(directory, NOBODY_UID, NOBODY_UID)
    with pytest.raises(SettingsError) as caught:
        secret_in(directory, DEV_SECRET_FILE)
    assert caught.value.name == "OPPSCAN_DATA_DIR" and "not to this user" in str(caught.value)


def test_a_secret_others_may_read_or_a_symlink_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    secret_in(directory, DEV_SECRET_FILE)
    (directory / DEV_SECRET_FILE).chmod(0o640)
    with pytest.raises(SettingsError, match="may have been read by others"):
        secret_in(directory, DEV_SECRET_FILE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("planted-secret-planted-secret-planted\n")
    elsewhere.chmod(0o600)
    (directory / "linked").symlink_to(elsewhere)
    with pytest.raises(SettingsError):
        read_secret(directory / "linked")


def test_development_mode_fills_jwt_secret_from_the_data_directory_only(tmp_path: Path) -> None:
    env = {"OPPSCAN_DATA_DIR": str(tmp_path / "data")}
    assert "JWT_SECRET" not in with_development_secret(env)
    filled = with_development_secret({**env, "DEV_MODE": "1"})
    assert filled["JWT_SECRET"] == (tmp_path / "data" / DEV_SECRET_FILE).read_text().strip()
    given = {**env, "DEV_MODE": "1", "JWT_SECRET": "g" * 40}
    assert with_development_secret(given)["JWT_SECRET"] == "g" * 40
