"""Every Redis key name and TTL of the service, and nothing else.

All keys of one scan share the hash tag ``{scan_id}``, so every multi-key step
on a scan is one atomic script that also works on Redis Cluster. Indexes that
span scans (the lease index, the work streams) are sharded over a fixed number
of hash-tagged buckets; a user's keys share the tag ``{user:<id>}``.

The Lua scripts live next to their typed calls in ``coordinator.store.scripts``.

Retention is decided here, once: a live scan's keys carry a bound derived from
its deadline; when it ends, one script gives all of them the retention TTL and
writes the tombstone. Nothing ever deletes a scan key.
"""

from __future__ import annotations

import zlib

from config.settings import Settings
from coordinator.process.clock import MS_PER_S

PREFIX = "os"
GENERATION_KEY = f"{PREFIX}:generation"
# Set (to the lost marker) by the first worker that finds the generation marker
# missing, so a worker started afterwards knows the data was lost, not new.
GENERATION_LOST_KEY = f"{PREFIX}:generation:lost"
WORK_GROUP = "strategies"
# Timeline entries kept per scan (a scan has ~3 per strategy plus takeovers).
LIFECYCLE_MAXLEN = 512


# ---- key names ----


def scan(scan_id: str) -> str:
    """Hash: snap (client JSON), state (actor msgpack), user, version, epoch, status."""
    return f"{PREFIX}:{{{scan_id}}}:scan"


def results(scan_id: str) -> str:
    return f"{PREFIX}:{{{scan_id}}}:results"


def mailbox(scan_id: str) -> str:
    return f"{PREFIX}:{{{scan_id}}}:mailbox"


def lifecycle(scan_id: str) -> str:
    return f"{PREFIX}:{{{scan_id}}}:lifecycle"


def lease(scan_id: str) -> str:
    return f"{PREFIX}:{{{scan_id}}}:lease"


def tombstone(scan_id: str) -> str:
    return f"{PREFIX}:{{{scan_id}}}:tomb"


def events_channel(scan_id: str) -> str:
    """Pub/sub channel carrying each published snapshot of a scan."""
    return f"{PREFIX}:{{{scan_id}}}:events"


def scan_id_of_events_channel(channel: str) -> str:
    """The inverse of events_channel: the scan id inside its hash tag."""
    return channel.split("{", 1)[1].split("}", 1)[0]


def doorbell_channel(worker_id: str) -> str:
    """Pub/sub channel a worker listens on for 'your scan has mail'."""
    return f"{PREFIX}:bell:{worker_id}"


DOORBELL_PREFIX = f"{PREFIX}:bell:"


def feed_channel(worker_id: str) -> str:
    """A worker's own channel, so its feed connection always has a subscription."""
    return f"{PREFIX}:feed:{worker_id}"


def user_active(user_id: str) -> str:
    return f"{PREFIX}:{{user:{user_id}}}:active"


def user_scans(user_id: str) -> str:
    return f"{PREFIX}:{{user:{user_id}}}:scans"


def user_idempotency(user_id: str, idempotency_key: str) -> str:
    return f"{PREFIX}:{{user:{user_id}}}:idem:{idempotency_key}"


def user_start_rate(user_id: str) -> str:
    """Counter of the scans a user started in the current rate window."""
    return f"{PREFIX}:{{user:{user_id}}}:starts"


def user_connections(user_id: str, kind: str) -> str:
    """Sorted set of the long-lived connections of one kind (`ws`, `wait`) a user holds
    across the service: members `<worker_id>#<n>`, scored by when they lapse (ms,
    Redis's clock) unless their worker refreshes them."""
    return f"{PREFIX}:{{user:{user_id}}}:held:{kind}"


def auth_failures(address: str) -> str:
    """Counter of the 401s answered to one client address in the current window."""
    return f"{PREFIX}:authfail:{address}"


def lease_index(bucket: int) -> str:
    """Sorted set of live scan ids scored by lease expiry (ms); 0 = claimable now."""
    return f"{PREFIX}:{{idx:{bucket}}}:leases"


def work_stream(bucket: int) -> str:
    return f"{PREFIX}:{{work:{bucket}}}:stream"


def workers_index() -> str:
    """Sorted set of worker ids scored by their last heartbeat (ms)."""
    return f"{PREFIX}:workers"


def worker_info(worker_id: str) -> str:
    return f"{PREFIX}:worker:{worker_id}"


def bucket_of(scan_id: str, buckets: int) -> int:
    return zlib.crc32(scan_id.encode()) % buckets


# ---- TTLs: the one retention policy ----


def active_ttl_ms(settings: Settings) -> int:
    """Bound on a live scan's keys: it ends by its deadline, so its keys can
    only outlive that by a few takeovers plus the retention."""
    takeovers_allowed = 10
    return (
        int(settings.scan_deadline_s * MS_PER_S)
        + settings.result_retention_s * MS_PER_S
        + takeovers_allowed * settings.lease_ttl_ms
    )


def retention_ttl_ms(settings: Settings) -> int:
    return settings.result_retention_s * MS_PER_S


def tombstone_ttl_ms(settings: Settings) -> int:
    """The tombstone outlives the scan's keys by the tombstone retention."""
    return (settings.result_retention_s + settings.tombstone_retention_s) * MS_PER_S


def live_tombstone_ttl_ms(settings: Settings) -> int:
    return active_ttl_ms(settings) + settings.tombstone_retention_s * MS_PER_S


def worker_info_ttl_ms(settings: Settings) -> int:
    """A worker that stops heartbeating disappears after a few missed beats."""
    return settings.worker_heartbeat_interval_ms * WORKER_MISSED_BEATS


WORKER_MISSED_BEATS = 5


def connection_slot_ttl_ms(settings: Settings) -> int:
    """A held connection's slot lapses this long after its worker last refreshed it (on
    every heartbeat): a dead worker's slots free as its registry entry does."""
    return worker_info_ttl_ms(settings)


def connection_slot_refresh_interval_s(settings: Settings) -> float:
    return settings.worker_heartbeat_interval_ms / MS_PER_S


def user_keys_ttl_ms(settings: Settings) -> int:
    """A user's history and idempotency keys live as long as their scans can be read."""
    return active_ttl_ms(settings)


def dead_consumer_idle_ms(settings: Settings) -> int:
    """A live consumer reads every work_block_ms; one silent this many times
    longer is a process that is gone."""
    return settings.work_block_ms * DEAD_CONSUMER_SILENT_BLOCKS


DEAD_CONSUMER_SILENT_BLOCKS = 30


# ---- evidence: walk-forward evaluations shared by every worker ----
# One evaluation per (source, data version, strategy, rule fingerprint). Its result
# and its lock share a hash tag, so storing the one and releasing the other is one
# script on a Cluster too. Evaluations are immutable: a key is written once.


def evidence_tag(source: str, data_version: str, strategy: str, fingerprint: str) -> str:
    return f"ev:{source}|{data_version}|{strategy}|{fingerprint}"


def evidence_result(tag: str) -> str:
    """String: the msgpack Evaluation; expires after the evidence retention."""
    return f"{PREFIX}:{{{tag}}}:result"


def evidence_lock(tag: str) -> str:
    """String: the token of the worker computing it; expires unless refreshed."""
    return f"{PREFIX}:{{{tag}}}:lock"


def evidence_lock_ttl_ms(settings: Settings) -> int:
    return round(settings.evidence_lock_ttl_s * MS_PER_S)


def evidence_retention_ms(settings: Settings) -> int:
    return settings.evidence_retention_s * MS_PER_S
