local scan_key = KEYS[1]
local lease_key = KEYS[2]
local lifecycle_key = KEYS[3]
local results_key = KEYS[4]
local token = ARGV[1]
local worker = ARGV[2]
local pid = ARGV[3]
local ttl_ms = ARGV[4]
local now_ms = ARGV[5]
local now_iso = ARGV[6]
-- Takes the scan's lease at the next epoch, unless it is held or the scan is
-- missing or over. Returns {1, epoch, snap, state, version, results} or
-- {0, reason}; records the claim (or takeover) in the timeline.
if redis.call('EXISTS', lease_key) == 1 then return {0, 'held'} end
local status = redis.call('HGET', scan_key, 'status')
if not status then return {0, 'missing'} end
if TERMINAL[status] then return {0, 'terminal'} end
local previous = redis.call('HGET', scan_key, 'owner')
local released = redis.call('HGET', scan_key, 'released')
local epoch = redis.call('HINCRBY', scan_key, 'acquisitions', 1)
redis.call('HSET', lease_key, 'token', token, 'epoch', epoch, 'worker', worker,
           'pid', pid, 'acquired_ms', now_ms)
redis.call('PEXPIRE', lease_key, ttl_ms)
redis.call('HSET', scan_key, 'owner', worker, 'released', '0')
local event = 'claimed'
if previous then
  event = 'taken_over'
  if released ~= '1' then
    redis.call('XADD', lifecycle_key, 'MAXLEN', '~', LIFECYCLE_MAXLEN, '*', 'e', cjson.encode(
      {at=now_iso, event='lease_lost', worker=previous, epoch=epoch - 1}))
  end
end
redis.call('XADD', lifecycle_key, 'MAXLEN', '~', LIFECYCLE_MAXLEN, '*', 'e', cjson.encode(
  {at=now_iso, event=event, worker=worker, epoch=epoch}))
return {1, epoch, redis.call('HGET', scan_key, 'snap'), redis.call('HGET', scan_key, 'state'),
        tonumber(redis.call('HGET', scan_key, 'version')), redis.call('GET', results_key) or ''}
