-- An admin removes temporary whitelist entries (temporaryEntriesToRemove in src/domain/auth.ts
-- chose the members), each removal audited; an entry that expired or went meanwhile is skipped.
-- KEYS: tempWhitelist, events   ARGV: now, maxlen, actor, then pairs of member, site ('' none)
-- Reply: the number of entries removed.
local now, removed = tonumber(ARGV[1]), 0
for i = 4, #ARGV, 2 do
  local member, site = ARGV[i], ARGV[i + 1]
  local expiry = num(redis.call('ZSCORE', KEYS[1], member))
  if expiry and expiry > now then
    redis.call('ZREM', KEYS[1], member)
    local ip = string.match(member, '\31(.*)$') or member
    local event = { 'ip', ip, 'actor', ARGV[3] }
    if site ~= '' then event[#event + 1], event[#event + 2] = 'site', site end
    audit(KEYS[2], ARGV[2], now, 'temporary_whitelist_removed', event)
    removed = removed + 1
  end
end
return removed
