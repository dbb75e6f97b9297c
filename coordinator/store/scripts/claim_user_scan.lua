local active_key = KEYS[1]
local history_key = KEYS[2]
local idempotency_key = KEYS[3]
local scan_id = ARGV[1]
local stale_active = ARGV[2]
local created_ms = ARGV[3]
local history_limit = ARGV[4]
local ttl_ms = ARGV[5]
local has_idempotency = ARGV[6]
-- Points the user's active key (and idempotency key, when has_idempotency is
-- '1'; otherwise idempotency_key is the active key again) at scan_id, unless an
-- idempotent original or another active scan (not stale_active) holds it.
-- Returns the scan id the user ends up with: scan_id when claimed, else the winner's.
if has_idempotency == '1' then
  local existing = redis.call('GET', idempotency_key)
  if existing then return existing end
end
local active = redis.call('GET', active_key)
if active and active ~= stale_active then return active end
redis.call('SET', active_key, scan_id, 'PX', ttl_ms)
if has_idempotency == '1' then redis.call('SET', idempotency_key, scan_id, 'PX', ttl_ms) end
redis.call('ZADD', history_key, created_ms, scan_id)
redis.call('ZREMRANGEBYRANK', history_key, 0, -(tonumber(history_limit) + 1))
redis.call('PEXPIRE', history_key, ttl_ms)
return scan_id
