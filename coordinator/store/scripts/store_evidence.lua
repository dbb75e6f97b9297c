local result_key = KEYS[1]
local lock_key = KEYS[2]
local token = ARGV[1]
local evaluation = ARGV[2]
local retention_ms = ARGV[3]
-- Stores an evaluation (unless one is there: the first stays, they are the same
-- computation) and releases its lock if it is still the caller's.
redis.call('SET', result_key, evaluation, 'PX', retention_ms, 'NX')
if redis.call('GET', lock_key) == token then redis.call('DEL', lock_key) end
return 1
