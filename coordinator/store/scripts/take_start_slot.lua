local start_rate_key = KEYS[1]
local limit = ARGV[1]
local window_ms = ARGV[2]
-- A fixed window: 0 when this start is allowed (and counted), else the ms
-- until the window ends (the start is not counted).
local used = tonumber(redis.call('GET', start_rate_key) or '0')
if used >= tonumber(limit) then
  local left = redis.call('PTTL', start_rate_key)
  if left < 0 then left = tonumber(window_ms) end
  return left
end
if redis.call('INCR', start_rate_key) == 1 then redis.call('PEXPIRE', start_rate_key, window_ms) end
return 0
