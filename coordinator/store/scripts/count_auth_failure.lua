local failures_key = KEYS[1]
local window_ms = ARGV[1]
-- Counts one 401 to an address in a fixed window. Returns {count, ms left in
-- the window}.
local count = redis.call('INCR', failures_key)
if count == 1 then redis.call('PEXPIRE', failures_key, window_ms) end
local left = redis.call('PTTL', failures_key)
if left < 0 then
  redis.call('PEXPIRE', failures_key, window_ms)
  left = tonumber(window_ms)
end
return {count, left}
