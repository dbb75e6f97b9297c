local active_key = KEYS[1]
local scan_id = ARGV[1]
-- Clears the user's active pointer only if it is still this scan.
if redis.call('GET', active_key) == scan_id then return redis.call('DEL', active_key) end
return 0
