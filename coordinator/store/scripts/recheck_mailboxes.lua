-- KEYS: mailboxes (one slot's, on a Cluster).
-- ARGV: each mailbox owner's cursor (an entry id, ms-seq), in the order of KEYS.
-- Returns the 1-based positions of the mailboxes holding an entry after their
-- cursor: the batched recheck for lost doorbells, with a reply as small as the news.
local function after(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local news = {}
for i, mailbox_key in ipairs(KEYS) do
  local newest = redis.call('XREVRANGE', mailbox_key, '+', '-', 'COUNT', 1)
  if newest[1] and after(newest[1][1], ARGV[i]) then news[#news + 1] = i end
end
return news
