"""Operator recovery after Redis lost its data: `python -m coordinator.recover`.

Writes a new generation marker so workers that failed closed resume. Scans that
were in the lost data are gone; this command is the explicit acceptance of that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from redis.exceptions import RedisError

from config.errors import SettingsError
from config.redis_url import check, redact
from coordinator.store.generation import write_new_generation
from coordinator.store.redis_client import connect


async def recover(url: str) -> str:
    redis = connect(url)
    try:
        return await write_new_generation(redis)
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), required=False)
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("--redis-url or REDIS_URL is required")
    shown = redact(args.redis_url)  # the password never reaches the terminal or a log
    try:
        check(args.redis_url)
        marker = asyncio.run(recover(args.redis_url))
    except SettingsError as exc:
        parser.error(str(exc))
    except (RedisError, OSError) as exc:
        print(f"error: no new generation marker written on {shown}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"new generation marker {marker} written on {shown}; workers resume within a second")


if __name__ == "__main__":
    main()
