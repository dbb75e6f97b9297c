local scan_key = KEYS[1]
local lease_key = KEYS[2]
local results_key = KEYS[3]
local mailbox_key = KEYS[4]
local lifecycle_key = KEYS[5]
local tomb_key = KEYS[6]
local token = ARGV[1]
local epoch = ARGV[2]
local expected_version = ARGV[3]
local snap = ARGV[4]
local state = ARGV[5]
local status = ARGV[6]
local results = ARGV[7]
local cursor = ARGV[8]
local terminal = ARGV[9]
local retention_ms = ARGV[10]
local tomb = ARGV[11]
local tomb_ttl_ms = ARGV[12]
local channel = ARGV[13]
local events = ARGV[14]
-- The fenced publish: the owner's only way to write a scan. Writes the next
-- snapshot version only while the lease is held with token, no newer epoch has
-- written and the version is still expected_version; else a FENCED_* code.
-- results, cursor and events are '' when unchanged, none folded, none; events is
-- a JSON array: one timeline entry per publish, where one per event cost a
-- command each. A terminal publish gives every key of the scan the retention TTL.
if redis.call('HGET', lease_key, 'token') ~= token then return FENCED_NOT_OWNER end
epoch = tonumber(epoch)
if (tonumber(redis.call('HGET', scan_key, 'epoch')) or 0) > epoch then
  return FENCED_STALE_EPOCH
end
local version = tonumber(redis.call('HGET', scan_key, 'version')) or 0
if version ~= tonumber(expected_version) then return FENCED_VERSION_CONFLICT end
version = version + 1
redis.call('HSET', scan_key, 'snap', snap, 'state', state, 'status', status,
           'version', version, 'epoch', epoch)
if results ~= '' then
  redis.call('SET', results_key, results, 'KEEPTTL')
  -- The first results of a scan create the key: give it the scan's bound.
  local bound = redis.call('PTTL', scan_key)
  if bound > 0 and redis.call('PTTL', results_key) < 0 then
    redis.call('PEXPIRE', results_key, bound)
  end
end
if events ~= '' then
  redis.call('XADD', lifecycle_key, 'MAXLEN', '~', LIFECYCLE_MAXLEN, '*', 'b', events)
end
if cursor ~= '' then redis.call('XTRIM', mailbox_key, 'MINID', cursor) end
if terminal == '1' then
  if redis.call('EXISTS', results_key) == 0 then redis.call('SET', results_key, '[]') end
  -- A terminal scan folds nothing more, so its mailbox keeps no entries: a stream's
  -- first node alone holds about 4 KB of what a finished scan would retain.
  redis.call('XTRIM', mailbox_key, 'MAXLEN', 0)
  for _, key in ipairs({scan_key, results_key, mailbox_key, lifecycle_key}) do
    redis.call('PEXPIRE', key, retention_ms)
  end
  redis.call('SET', tomb_key, tomb, 'PX', tomb_ttl_ms)
  redis.call('DEL', lease_key)
end
redis.call('PUBLISH', channel, snap)
return version
