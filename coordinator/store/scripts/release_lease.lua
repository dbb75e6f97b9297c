local lease_key = KEYS[1]
local scan_key = KEYS[2]
local lifecycle_key = KEYS[3]
local token = ARGV[1]
local now_iso = ARGV[2]
local worker = ARGV[3]
local epoch = ARGV[4]
-- Gives the lease up if it is still held with token (1), else 0; the next
-- owner's claim then reads as a handover, not a lost lease.
if redis.call('HGET', lease_key, 'token') ~= token then return 0 end
redis.call('DEL', lease_key)
redis.call('HSET', scan_key, 'released', '1')
redis.call('XADD', lifecycle_key, 'MAXLEN', '~', LIFECYCLE_MAXLEN, '*', 'e', cjson.encode(
  {at=now_iso, event='lease_released', worker=worker, epoch=tonumber(epoch)}))
return 1
