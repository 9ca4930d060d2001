-- An audit event alone (the permanent whitelist's changes have a script of their own,
-- whitelist.lua, which keeps its coverage).
-- KEYS: target, events   ARGV: op, member, now, maxlen, type, field/value pairs...
local op, member, now, maxlen, eventType = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local changed
if op == 'event' then
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
