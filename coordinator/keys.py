"""Every Redis key name, TTL and Lua script of the service, and nothing else.

All keys of one scan share the hash tag ``{scan_id}``, so every multi-key step
on a scan is one atomic script that also works on Redis Cluster. Indexes that
span scans (the lease index, the work streams) are sharded over a fixed number
of hash-tagged buckets; a user's keys share the tag ``{user:<id>}``.

Retention is decided here, once: a live scan's keys carry a bound derived from
its deadline; when it ends, one script gives all of them the retention TTL and
writes the tombstone. Nothing ever deletes a scan key.
"""

from __future__ import annotations

import zlib

from config.settings import Settings
from coordinator.clock import MS_PER_S

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


# ---- Lua scripts ----
# Results are small integers or arrays; fenced writes return a negative code.

FENCED_NOT_OWNER = -1
FENCED_STALE_EPOCH = -2
FENCED_VERSION_CONFLICT = -3

TERMINAL_LUA_SET = "{completed=true, partial=true, failed=true, cancelled=true}"

# KEYS: scan, mailbox, lifecycle, tomb
# ARGV: user, snap, state, status, active_ttl_ms, created_event, tomb, tomb_ttl_ms
CREATE_SCAN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'snap', ARGV[2], 'state', ARGV[3], 'user', ARGV[1],
           'version', 1, 'epoch', 0, 'acquisitions', 0, 'status', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local first = redis.call('XADD', KEYS[2], '*', 'm', '')
redis.call('XDEL', KEYS[2], first)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', %(lifecycle_maxlen)d, '*', 'e', ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[8])
return 1
""" % {"lifecycle_maxlen": LIFECYCLE_MAXLEN}

# KEYS: user_active, user_scans, idempotency (or the same as user_active when absent)
# ARGV: scan_id, stale_active_or_empty, created_ms, history_limit, ttl_ms, has_idempotency
# Returns the scan id the user ends up with: ARGV[1] when claimed, else the winner's.
CLAIM_USER_SCAN = """
if ARGV[6] == '1' then
  local existing = redis.call('GET', KEYS[3])
  if existing then return existing end
end
local active = redis.call('GET', KEYS[1])
if active and active ~= ARGV[2] then return active end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return ARGV[1]
"""

# KEYS: work_stream; ARGV: encoded work item...
# Adds a scan's work items to its bucket's stream, in order: one command for the
# whole fan-out instead of one per strategy.
ENQUEUE_WORK = """
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'w', ARGV[i]) end
return #ARGV
"""

# KEYS: work_stream; ARGV: group, consumer, count, encoded work item...
# ENQUEUE_WORK, then takes up to count undelivered entries (the new ones, unless
# older ones wait) for consumer, in the same script: a consumer blocked on the
# stream is served only after it, so the creating process keeps its scan's work.
ENQUEUE_AND_TAKE_WORK = """
for i = 4, #ARGV do redis.call('XADD', KEYS[1], '*', 'w', ARGV[i]) end
return redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
                  'STREAMS', KEYS[1], '>')
"""

# KEYS: work_stream; ARGV: group, then (entry_id, delivery) per task
# Acknowledges (and deletes) each finished task unless it was delivered again
# since that delivery: then the newer attempt's report is the one the fold
# applies, and the task must stay pending for it, so a reclaim retries it if that
# attempt dies too. Returns 1 (acknowledged) or 0 per task. One script, so the
# checks and the acknowledgements of many tasks share one command.
ACK_UNLESS_SUPERSEDED = """
local acked = {}
for i = 2, #ARGV, 2 do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and tonumber(pending[1][4]) > tonumber(ARGV[i + 1]) then
    acked[#acked + 1] = 0
  else
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
    acked[#acked + 1] = 1
  end
end
return acked
"""

# KEYS: work_stream; ARGV: group, dead_idle_ms, own_consumer
# Forgets consumers (dead worker processes) that hold no task and have not read
# for dead_idle_ms. Atomic, so a consumer cannot take a task between the check
# and the delete (DELCONSUMER would drop that task from the pending list).
PRUNE_CONSUMERS = """
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['name'] ~= ARGV[3] and tonumber(info['pending']) == 0
     and tonumber(info['idle']) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
"""


def dead_consumer_idle_ms(settings: Settings) -> int:
    """A live consumer reads every work_block_ms; one silent this many times
    longer is a process that is gone."""
    return settings.work_block_ms * DEAD_CONSUMER_SILENT_BLOCKS


DEAD_CONSUMER_SILENT_BLOCKS = 30

# KEYS: user_start_rate; ARGV: limit, window_ms
# A fixed window: returns 0 when this start is allowed, else the ms until the
# window ends (the start is not counted).
TAKE_START_SLOT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then left = tonumber(ARGV[2]) end
  return left
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: user_active; ARGV: scan_id. Clears the pointer only if it is still this scan.
CLEAR_USER_ACTIVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: scan, lease, lifecycle, results
# ARGV: token, worker, pid, ttl_ms, now_ms, now_iso
# Returns {1, epoch, snap, state, version, results} or {0, reason}.
ACQUIRE_LEASE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, 'held'} end
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0, 'missing'} end
local terminal = %(terminal)s
if terminal[status] then return {0, 'terminal'} end
local previous = redis.call('HGET', KEYS[1], 'owner')
local released = redis.call('HGET', KEYS[1], 'released')
local epoch = redis.call('HINCRBY', KEYS[1], 'acquisitions', 1)
redis.call('HSET', KEYS[2], 'token', ARGV[1], 'epoch', epoch, 'worker', ARGV[2],
           'pid', ARGV[3], 'acquired_ms', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'released', '0')
local event = 'claimed'
if previous then
  event = 'taken_over'
  if released ~= '1' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', %(lifecycle_maxlen)d, '*', 'e', cjson.encode(
      {at=ARGV[6], event='lease_lost', worker=previous, epoch=epoch - 1}))
  end
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', %(lifecycle_maxlen)d, '*', 'e', cjson.encode(
  {at=ARGV[6], event=event, worker=ARGV[2], epoch=epoch}))
return {1, epoch, redis.call('HGET', KEYS[1], 'snap'), redis.call('HGET', KEYS[1], 'state'),
        tonumber(redis.call('HGET', KEYS[1], 'version')), redis.call('GET', KEYS[4]) or ''}
""" % {"terminal": TERMINAL_LUA_SET, "lifecycle_maxlen": LIFECYCLE_MAXLEN}

# KEYS: leases (one slot's, on a Cluster); ARGV: ttl_ms, then each lease's token.
# Renews each lease still held with its token: replaces the expiry (never adds to
# it). Returns 1 (renewed) or 0 (lost) per lease. One call renews a whole batch:
# thousands of leases renewed one command each cost seconds of client time.
RENEW_LEASES = """
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'token') == ARGV[i + 1] then
    renewed[i] = redis.call('PEXPIRE', key, ARGV[1])
  else
    renewed[i] = 0
  end
end
return renewed
"""
# KEYS: mailboxes (one slot's, on a Cluster); ARGV: each owner's cursor (ms-seq).
# Returns the 1-based positions of the mailboxes holding an entry after their
# cursor: the batched recheck for lost doorbells, with a reply as small as the news.
RECHECK_MAILBOXES = """
local function after(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local news = {}
for i, key in ipairs(KEYS) do
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if newest[1] and after(newest[1][1], ARGV[i]) then news[#news + 1] = i end
end
return news
"""

# Keys one batched script call (RENEW_LEASES, RECHECK_MAILBOXES) touches: Redis runs
# nothing else meanwhile, so a call stays around a millisecond.
SCRIPT_BATCH = 500

# KEYS: lease, scan, lifecycle; ARGV: token, now_iso, worker, epoch
RELEASE_LEASE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'released', '1')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', %(lifecycle_maxlen)d, '*', 'e', cjson.encode(
  {at=ARGV[2], event='lease_released', worker=ARGV[3], epoch=tonumber(ARGV[4])}))
return 1
""" % {"lifecycle_maxlen": LIFECYCLE_MAXLEN}

# The fenced publish: the owner's only way to write a scan.
# KEYS: scan, lease, results, mailbox, lifecycle, tomb
# ARGV: token, epoch, expected_version, snap, state, status, results_or_empty,
#       cursor_or_empty, terminal ('1'/'0'), retention_ms, tomb, tomb_ttl_ms,
#       channel, events_or_empty (a JSON array: one timeline entry for a publish's
#       events, where an entry per event cost a command each)
PUBLISH_SNAPSHOT = """
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[1] then return %(not_owner)d end
local epoch = tonumber(ARGV[2])
if (tonumber(redis.call('HGET', KEYS[1], 'epoch')) or 0) > epoch then
  return %(stale_epoch)d
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version')) or 0
if version ~= tonumber(ARGV[3]) then return %(version_conflict)d end
version = version + 1
redis.call('HSET', KEYS[1], 'snap', ARGV[4], 'state', ARGV[5], 'status', ARGV[6],
           'version', version, 'epoch', epoch)
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[3], ARGV[7], 'KEEPTTL')
  -- The first results of a scan create the key: give it the scan's bound.
  local bound = redis.call('PTTL', KEYS[1])
  if bound > 0 and redis.call('PTTL', KEYS[3]) < 0 then redis.call('PEXPIRE', KEYS[3], bound) end
end
if ARGV[14] ~= '' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', %(lifecycle_maxlen)d, '*', 'b', ARGV[14])
end
if ARGV[8] ~= '' then redis.call('XTRIM', KEYS[4], 'MINID', ARGV[8]) end
if ARGV[9] == '1' then
  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], '[]') end
  -- A terminal scan folds nothing more, so its mailbox keeps no entries: a stream's
  -- first node alone holds about 4 KB of what a finished scan would retain.
  redis.call('XTRIM', KEYS[4], 'MAXLEN', 0)
  for _, key in ipairs({KEYS[1], KEYS[3], KEYS[4], KEYS[5]}) do
    redis.call('PEXPIRE', key, ARGV[10])
  end
  redis.call('SET', KEYS[6], ARGV[11], 'PX', ARGV[12])
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[13], ARGV[4])
return version
""" % {
    "not_owner": FENCED_NOT_OWNER,
    "stale_epoch": FENCED_STALE_EPOCH,
    "version_conflict": FENCED_VERSION_CONFLICT,
    "lifecycle_maxlen": LIFECYCLE_MAXLEN,
}

# KEYS: mailbox, lease, scan; ARGV: doorbell_prefix, scan_id, local_worker, message...
# Appends the messages, in order, only to a live scan's mailbox (never recreates
# an expired one, never adds to a finished one: nothing would fold them, so they
# are refused rather than acknowledged) and returns the id of the mailbox's last
# entry before them ('' for none) followed by their entry ids, or false for a
# refusal; then rings the owner's doorbell once so it folds at once instead of
# at its next poll, unless the owner is local_worker, the appender itself, which
# hands its actor the entries without a round trip through Redis.
APPEND_MAILBOX = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local terminal = %(terminal)s
local status = redis.call('HGET', KEYS[3], 'status')
if not status or terminal[status] then return false end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local ids = {last[1] and last[1][1] or ''}
for i = 4, #ARGV do ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'm', ARGV[i]) end
local owner = redis.call('HGET', KEYS[2], 'worker')
if owner and owner ~= ARGV[3] then redis.call('PUBLISH', ARGV[1] .. owner, ARGV[2]) end
return ids
""" % {"terminal": TERMINAL_LUA_SET}


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


# KEYS: lock; ARGV: token, ttl_ms. Extends the lock only while we still hold it.
REFRESH_EVIDENCE_LOCK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS: result, lock; ARGV: token, evaluation, retention_ms.
# Stores the evaluation (unless one is there: the first stays, they are the same
# computation) and releases the lock if it is still ours.
STORE_EVIDENCE = """
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'NX')
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

# KEYS: lock; ARGV: token. Releases the lock if it is still ours.
RELEASE_EVIDENCE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Redis's own clock in ms, for scripts whose expiries several hosts compare: no host's
# clock skew moves them. A script reading TIME before a write needs effects replication
# (the default from Redis 7; Redis 6.2, the embedded fallback, must be asked).
REDIS_NOW_MS_LUA = """
redis.replicate_commands()
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# KEYS: user_connections; ARGV: member, limit, ttl_ms
# Takes one of a user's connection slots: drops the lapsed ones (their worker died),
# then adds `member`, lapsing ttl_ms from now, unless the user holds `limit` already.
# Returns 1 (taken) or 0 (at the limit).
TAKE_CONNECTION_SLOT = (
    REDIS_NOW_MS_LUA
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
)

# KEYS: user_connections; ARGV: ttl_ms, member...
# A live worker's heartbeat for the slots it holds of one user: each lapses ttl_ms from
# now. Only slots still there (XX): one released meanwhile is not brought back.
REFRESH_CONNECTION_SLOTS = (
    REDIS_NOW_MS_LUA
    + """
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now_ms + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
)

# KEYS: auth_failures; ARGV: window_ms
# Counts one 401 to an address in a fixed window. Returns {count, ms left in the window}.
COUNT_AUTH_FAILURE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""
