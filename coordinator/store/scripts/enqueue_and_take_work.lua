local stream_key = KEYS[1]
local group = ARGV[1]
local consumer = ARGV[2]
local count = ARGV[3]
-- ARGV[4..]: the encoded work items, in order.
-- Adds them as enqueue_work does, then takes up to count undelivered entries
-- (the new ones, unless older ones wait) for consumer, in the same script: a
-- consumer blocked on the stream is served only after it, so the creating
-- process keeps its scan's work.
for i = 4, #ARGV do redis.call('XADD', stream_key, '*', 'w', ARGV[i]) end
return redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count,
                  'STREAMS', stream_key, '>')
