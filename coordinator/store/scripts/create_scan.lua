local scan_key = KEYS[1]
local mailbox_key = KEYS[2]
local lifecycle_key = KEYS[3]
local tomb_key = KEYS[4]
local user = ARGV[1]
local snap = ARGV[2]
local state = ARGV[3]
local status = ARGV[4]
local active_ttl_ms = ARGV[5]
local created_event = ARGV[6]
local tomb = ARGV[7]
local tomb_ttl_ms = ARGV[8]
-- A new scan: its queued snapshot, an empty mailbox and the timeline's first
-- entry, all bounded by the live scan's TTL, and its tombstone. 0 if it exists.
if redis.call('EXISTS', scan_key) == 1 then return 0 end
redis.call('HSET', scan_key, 'snap', snap, 'state', state, 'user', user,
           'version', 1, 'epoch', 0, 'acquisitions', 0, 'status', status)
redis.call('PEXPIRE', scan_key, active_ttl_ms)
local first = redis.call('XADD', mailbox_key, '*', 'm', '')
redis.call('XDEL', mailbox_key, first)
redis.call('PEXPIRE', mailbox_key, active_ttl_ms)
redis.call('XADD', lifecycle_key, 'MAXLEN', '~', LIFECYCLE_MAXLEN, '*', 'e', created_event)
redis.call('PEXPIRE', lifecycle_key, active_ttl_ms)
redis.call('SET', tomb_key, tomb, 'PX', tomb_ttl_ms)
return 1
