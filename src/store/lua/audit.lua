-- A removal from a set plus its audit event, or an event alone, atomically (additions to the
-- whitelist have a script of their own, whitelist.lua, which checks the bound).
-- KEYS: target, events   ARGV: op, member, now, maxlen, type, field/value pairs...
local op, member, now, maxlen, eventType = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local changed
if op == 'srem' then
  changed = redis.call('SREM', KEYS[1], member)
elseif op == 'event' then
  changed = 1
else
  return redis.error_reply('unknown op ' .. op)
end
if changed == 1 then
  local fields = {}
  for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
  audit(KEYS[2], maxlen, now, eventType, fields)
end
return changed
