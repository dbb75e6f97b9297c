local stream_key = KEYS[1]
local group = ARGV[1]
-- ARGV[2..]: the entry id and delivery count of each task, in pairs.
-- Acknowledges (and deletes) each finished task unless it was delivered again
-- since that delivery: then the newer attempt's report is the one the fold
-- applies, and the task must stay pending for it, so a reclaim retries it if that
-- attempt dies too. Returns 1 (acknowledged) or 0 per task. One script, so the
-- checks and the acknowledgements of many tasks share one command.
local acked = {}
for i = 2, #ARGV, 2 do
  local entry_id, delivery = ARGV[i], tonumber(ARGV[i + 1])
  local pending = redis.call('XPENDING', stream_key, group, entry_id, entry_id, 1)
  if pending[1] and tonumber(pending[1][4]) > delivery then
    acked[#acked + 1] = 0
  else
    redis.call('XACK', stream_key, group, entry_id)
    redis.call('XDEL', stream_key, entry_id)
    acked[#acked + 1] = 1
  end
end
return acked
