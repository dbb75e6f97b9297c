-- KEYS: the leases to renew (one slot's, on a Cluster).
local ttl_ms = ARGV[1]
-- ARGV[2..]: each lease's token, in the order of KEYS.
-- Renews each lease still held with its token: replaces the expiry (never adds
-- to it). Returns 1 (renewed) or 0 (lost) per lease. One call renews a whole
-- batch: thousands of leases renewed one command each cost seconds of client time.
local renewed = {}
for i, lease_key in ipairs(KEYS) do
  if redis.call('HGET', lease_key, 'token') == ARGV[i + 1] then
    renewed[i] = redis.call('PEXPIRE', lease_key, ttl_ms)
  else
    renewed[i] = 0
  end
end
return renewed
