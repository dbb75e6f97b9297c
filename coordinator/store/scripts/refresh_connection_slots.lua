local connections_key = KEYS[1]
local ttl_ms = ARGV[1]
-- ARGV[2..]: the members (slots) this worker holds of that user.
-- A live worker's heartbeat for the slots it holds of one user: each lapses
-- ttl_ms from now (Redis's clock). Only slots still there (XX): one released
-- meanwhile is not brought back.
local now_ms = redis_now_ms()
for i = 2, #ARGV do redis.call('ZADD', connections_key, 'XX', now_ms + tonumber(ttl_ms), ARGV[i]) end
redis.call('PEXPIRE', connections_key, ttl_ms)
return 1
