local mailbox_key = KEYS[1]
local lease_key = KEYS[2]
local scan_key = KEYS[3]
local doorbell_prefix = ARGV[1]
local scan_id = ARGV[2]
local local_worker = ARGV[3]
-- ARGV[4..]: the encoded messages, in order.
-- Appends the messages only to a live scan's mailbox (never recreates an expired
-- one, never adds to a finished one: nothing would fold them, so they are
-- refused rather than acknowledged) and returns the id of the mailbox's last
-- entry before them ('' for none) followed by their entry ids, or false for a
-- refusal; then rings the owner's doorbell once so it folds at once instead of
-- at its next poll, unless the owner is local_worker, the appender itself, which
-- hands its actor the entries without a round trip through Redis.
if redis.call('EXISTS', mailbox_key) == 0 then return false end
local status = redis.call('HGET', scan_key, 'status')
if not status or TERMINAL[status] then return false end
local last = redis.call('XREVRANGE', mailbox_key, '+', '-', 'COUNT', 1)
local ids = {last[1] and last[1][1] or ''}
for i = 4, #ARGV do ids[#ids + 1] = redis.call('XADD', mailbox_key, '*', 'm', ARGV[i]) end
local owner = redis.call('HGET', lease_key, 'worker')
if owner and owner ~= local_worker then
  redis.call('PUBLISH', doorbell_prefix .. owner, scan_id)
end
return ids
