"""The data directory: the embedded redis-server's files, its password and the
development secret, private to the user who runs the service.

Created 0700; an existing one owned by this user is tightened to 0700 (earlier
versions made it with the umask's mode, and it never held anything that must be
readable by others); one owned by someone else is refused, as is a secret file
that is not this user's or that others may read. Secrets are written once,
atomically (a 0600 temporary file linked into place), and reused: two processes
starting at once agree on one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from config.errors import SettingsError
from config.settings import parse_env_value

DATA_DIR_ENV = "OPPSCAN_DATA_DIR"
DEFAULT_DATA_DIR = Path(".data/redis")
# The HS256 secret `oppscan serve --dev` signs with, and `oppscan token` finds.
DEV_SECRET_FILE = "dev-jwt-secret"
# The embedded redis-server's `requirepass`.
REDIS_PASSWORD_FILE = "redis-password"
PRIVATE_DIR_MODE = 0o700
SECRET_FILE_MODE = 0o600
# Permission bits that let the group or others in.
SHARED_BITS = 0o077
# Random bytes per generated secret: the production minimum of JWT_SECRET.
SECRET_BYTES = 32


def data_dir_from(env: Mapping[str, str]) -> Path:
    return Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def refuse(problem: str) -> SettingsError:
    return SettingsError(DATA_DIR_ENV, problem)


def private_dir(path: Path) -> Path:
    """``path`` made (or checked to be) a directory only this user can enter."""
    path = path.resolve()
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        raise refuse(f"{path}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise refuse(f"{path} is not a directory")
    if info.st_uid != os.geteuid():
        raise refuse(f"{path} belongs to uid {info.st_uid}, not to this user: no secrets there")
    if info.st_mode & SHARED_BITS:
        path.chmod(PRIVATE_DIR_MODE)
    return path


def read_secret(path: Path) -> str | None:
    """The secret in ``path``, None if there is none; a file others may read (or
    that is not ours, or a symlink) is refused rather than trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise refuse(f"{path}: {exc.strerror}") from None
    with os.fdopen(fd) as file:
        info = os.fstat(file.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & SHARED_BITS:
            raise refuse(
                f"{path} has mode {stat.S_IMODE(info.st_mode):o} (uid {info.st_uid}): it may "
                "have been read by others; delete it for a new one"
            )
        secret = file.read().strip()
    if not secret:
        raise refuse(f"{path} is empty; delete it for a new one")
    return secret


def secret_in(directory: Path, name: str) -> str:
    """The secret kept in ``directory/name``, created on first use."""
    path = private_dir(directory) / name
    existing = read_secret(path)
    if existing is not None:
        return existing
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")  # 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process linked its own first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    found = read_secret(path)
    assert found is not None  # linked above, by us or by the process that won
    return found


def development_secret(env: Mapping[str, str]) -> str:
    """The development secret of the data directory ``env`` names (created once)."""
    return secret_in(data_dir_from(env), DEV_SECRET_FILE)


def with_development_secret(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with JWT_SECRET filled from the data directory when development mode
    is on and none is set: every process of one development service signs and
    verifies with the same random secret, and `oppscan token` finds it."""
    filled = dict(env)
    if parse_env_value("dev_mode", filled.get("DEV_MODE", "")) and not filled.get("JWT_SECRET"):
        filled["JWT_SECRET"] = development_secret(filled)
    return filled
