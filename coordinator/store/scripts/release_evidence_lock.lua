local lock_key = KEYS[1]
local token = ARGV[1]
-- Releases an evaluation's lock if it is still the caller's. Returns 1 (released)
-- or 0 (not ours any more).
if redis.call('GET', lock_key) == token then return redis.call('DEL', lock_key) end
return 0
