local stream_key = KEYS[1]
local group = ARGV[1]
local dead_idle_ms = ARGV[2]
local own_consumer = ARGV[3]
-- Forgets consumers (dead worker processes) that hold no task and have not read
-- for dead_idle_ms; returns how many. Atomic, so a consumer cannot take a task
-- between the check and the delete (DELCONSUMER would drop that task from the
-- pending list).
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream_key, group)) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['name'] ~= own_consumer and tonumber(info['pending']) == 0
     and tonumber(info['idle']) > tonumber(dead_idle_ms) then
    redis.call('XGROUP', 'DELCONSUMER', stream_key, group, info['name'])
    removed = removed + 1
  end
end
return removed
