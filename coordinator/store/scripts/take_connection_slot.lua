local connections_key = KEYS[1]
local member = ARGV[1]
local limit = ARGV[2]
local ttl_ms = ARGV[3]
-- Takes one of a user's connection slots: drops the lapsed ones (their worker
-- died), then adds member, lapsing ttl_ms from now (Redis's clock), unless the
-- user holds limit already. Returns 1 (taken) or 0 (at the limit).
local now_ms = redis_now_ms()
redis.call('ZREMRANGEBYSCORE', connections_key, '-inf', now_ms)
if redis.call('ZCARD', connections_key) >= tonumber(limit) then return 0 end
redis.call('ZADD', connections_key, now_ms + tonumber(ttl_ms), member)
redis.call('PEXPIRE', connections_key, ttl_ms)
return 1
