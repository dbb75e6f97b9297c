local lock_key = KEYS[1]
local token = ARGV[1]
local ttl_ms = ARGV[2]
-- Extends an evaluation's lock by ttl_ms only while the caller still holds it.
-- Returns 1 (extended) or 0 (not ours any more).
if redis.call('GET', lock_key) ~= token then return 0 end
return redis.call('PEXPIRE', lock_key, ttl_ms)
