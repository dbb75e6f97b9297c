"""The Lua scripts of the service: one ``.lua`` file each, next to the typed calls.

Every multi-key step on a scan is one script (atomic, and on a Cluster all its
keys share the scan's slot). A script's first lines name its KEYS and ARGV as
locals; the Python side of each is a call class (in ``scan``, ``lease``,
``work``, ``user``, ``edge`` and ``evidence``) built from named arguments, whose
``keys()`` and ``args()`` name the same locals in the same order (tests/
coordinator/test_script_calls.py holds them to it) and whose ``reply()`` reads what the
script returns into a typed result, so no caller reads a reply by position.

A call is always sent as EVAL with the script's text, queued on a pipeline
(``queue_call``) or through the process's auto-pipeline: redis-py's EVALSHA in a
pipeline first asks SCRIPT EXISTS, a round trip of its own before every
pipeline (and a Cluster pipeline refuses EVALSHA outright). Redis caches an
EVAL'd script by its digest, so the text costs only bytes on the wire, and a
Redis that restarted without its script cache needs no reload.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline

from coordinator.store import keys
from coordinator.store.records import TERMINAL_SCAN_STATUSES

T = TypeVar("T")
R = TypeVar("R")

SCRIPTS_DIR = Path(__file__).parent
# Keys one batched script call (renew_leases, recheck_mailboxes) touches: Redis runs
# nothing else meanwhile, so a call stays around a millisecond.
SCRIPT_BATCH = 500

# What the fenced publish returns instead of a version (see publish_snapshot.lua).
FENCED_NOT_OWNER = -1
FENCED_STALE_EPOCH = -2
FENCED_VERSION_CONFLICT = -3


# Redis's own clock in ms, for scripts whose expiries several hosts compare: no host's
# clock skew moves them. A script reading TIME before a write needs effects replication
# (the default from Redis 7; Redis 6.2, the embedded fallback, must be asked), so a
# script calls this before its first write.
REDIS_NOW_MS_LUA = """local function redis_now_ms()
  redis.replicate_commands()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end"""


def constants_preamble() -> str:
    """The constants (and the one function) every script may use, defined once here
    (and in keys): Lua locals put before the script's own text."""
    terminal = ", ".join(f"{status.value}=true" for status in sorted(TERMINAL_SCAN_STATUSES))
    return "\n".join(
        [
            f"local LIFECYCLE_MAXLEN = {keys.LIFECYCLE_MAXLEN}",
            f"local TERMINAL = {{{terminal}}}",
            f"local FENCED_NOT_OWNER = {FENCED_NOT_OWNER}",
            f"local FENCED_STALE_EPOCH = {FENCED_STALE_EPOCH}",
            f"local FENCED_VERSION_CONFLICT = {FENCED_VERSION_CONFLICT}",
            REDIS_NOW_MS_LUA,
            "",
        ]
    )


@cache
def lua(name: str) -> str:
    """The text sent for script ``name`` (``<name>.lua`` here), read once."""
    return constants_preamble() + (SCRIPTS_DIR / f"{name}.lua").read_text()


class ScriptCall(Generic[R]):
    """One call of a script: its named KEYS and ARGV, and its reply read as ``R``.

    ``keys()`` and ``args()`` name the script's KEYS and ARGV locals in order;
    ``more_keys()`` and ``more_args()`` are what follows them in a script that
    takes a list (the leases of a batch, the messages of an append)."""

    __slots__ = ()
    script: ClassVar[str]  # the name of its .lua file

    def keys(self) -> dict[str, str]:
        return {}

    def args(self) -> dict[str, object]:
        return {}

    def more_keys(self) -> Sequence[str]:
        return ()

    def more_args(self) -> Sequence[object]:
        return ()

    def reply(self, raw: Any) -> R:
        raise NotImplementedError


def queue_call(pipe: Pipeline, call: ScriptCall[Any]) -> None:
    """Queue a script call on a pipeline (as EVAL); its reply is ``call.reply(raw)``
    of the pipeline reply at this position."""
    pipe.eval(*eval_arguments(call))


async def run_call(redis: Redis, call: ScriptCall[R]) -> R:
    """One script call in a round trip of its own (as EVAL, like queue_call); its
    reply, as the call reads it."""
    return call.reply(await redis.eval(*eval_arguments(call)))


def eval_arguments(call: ScriptCall[Any]) -> list[Any]:
    """EVAL's arguments for a call: the script's text, its number of keys, the keys
    and the arguments."""
    script_keys = [*call.keys().values(), *call.more_keys()]
    return [
        lua(call.script),
        len(script_keys),
        *script_keys,
        *call.args().values(),
        *call.more_args(),
    ]


async def run_batched(
    redis: Redis,
    items: Sequence[T],
    key_of: Callable[[T], str],
    call_of: Callable[[Sequence[T]], ScriptCall[list[R]]],
    also: Callable[[Pipeline], object] = lambda pipe: None,
) -> list[tuple[T, R]]:
    """One round trip: a call of a batched script per batch of items (see
    slot_batches), ``call_of(batch)``, then whatever ``also`` queues; each item with
    its share of its batch's reply (a batched call answers item by item)."""
    batches = slot_batches(redis, items, key_of)
    calls = [call_of(batch) for batch in batches]
    async with redis.pipeline(transaction=False) as pipe:
        for call in calls:
            queue_call(pipe, call)
        also(pipe)
        replies = await pipe.execute()
    return [
        (item, share)
        for batch, call, raw in zip(batches, calls, replies, strict=False)
        for item, share in zip(batch, call.reply(raw), strict=True)
    ]


def slot_batches(redis: Redis, items: Sequence[T], key_of: Callable[[T], str]) -> list[list[T]]:
    """Items grouped so one script call may take all their keys: by slot on a
    Cluster (a script's keys must share one), then at most SCRIPT_BATCH each."""
    groups: dict[int, list[T]] = {}
    if isinstance(redis, RedisCluster):
        for item in items:
            groups.setdefault(redis.keyslot(key_of(item)), []).append(item)
    else:
        groups[0] = list(items)
    return [
        group[start : start + SCRIPT_BATCH]
        for group in groups.values()
        for start in range(0, len(group), SCRIPT_BATCH)
    ]
