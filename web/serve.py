"""`make run`: the service on 127.0.0.1:8080, with an embedded redis-server when
REDIS_URL is unset, gunicorn running the Procfile's `web` command.

Prints a development token and a curl line to start a scan.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from config.settings import Settings, load_settings
from coordinator.embedded_redis import EmbeddedRedis
from web.auth import mint_token

DATA_DIR = Path(".data/redis")
# A development token lasts a working day.
DEV_TOKEN_TTL_S = 12 * 3600


def gunicorn_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "web.app:gunicorn_app",
        "--config",
        "config/gunicorn.py",
        "--worker-class",
        "aiohttp.GunicornWebWorker",
        "--workers",
        str(settings.web_concurrency),
        "--bind",
        f"{settings.host}:{settings.port}",
    ]


def banner(settings: Settings) -> str:
    token = mint_token(settings, "dev-user", ttl_s=DEV_TOKEN_TTL_S)
    admin = mint_token(settings, "dev-admin", admin=True, ttl_s=DEV_TOKEN_TTL_S)
    base = f"http://{settings.host}:{settings.port}"
    curl = (
        f"curl -s -X POST {base}/api/v1/scans -H {shlex.quote('Authorization: Bearer ' + token)}"
        f" -H 'Content-Type: application/json' -d '{{}}'"
    )
    return "\n".join(
        [
            f"Opportunity Scanner on {base} (redis: {settings.redis_url})",
            f"development token (user dev-user):\n  {token}",
            f"admin token:\n  {admin}",
            f"start a scan:\n  {curl}",
            f"follow it:\n  curl -s {base}/api/v1/scans/<scan_id> "
            f"-H 'Authorization: Bearer {token}'",
        ]
    )


def exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # runs the finally below, which stops the embedded Redis


def main() -> None:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    env = dict(os.environ)
    env.setdefault("DEV_MODE", "1")
    embedded: EmbeddedRedis | None = None
    if not env.get("REDIS_URL"):
        embedded = EmbeddedRedis(DATA_DIR).start()
        env["REDIS_URL"] = embedded.url
    settings = load_settings(env)
    print(banner(settings), flush=True)
    try:
        subprocess.run(gunicorn_command(settings), env=env, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
