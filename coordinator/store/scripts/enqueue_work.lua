local stream_key = KEYS[1]
-- ARGV: the encoded work items, in order.
-- Adds a scan's work items to its bucket's stream: one command for the whole
-- fan-out instead of one per strategy.
for i = 1, #ARGV do redis.call('XADD', stream_key, '*', 'w', ARGV[i]) end
return #ARGV
