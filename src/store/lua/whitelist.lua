-- Adds a permanent whitelist entry and its audit event, only while the whitelist holds exactly the
-- entries the caller checked the addition against (checkWhitelistCoverage in
-- src/domain/whitelist.ts): two admins adding at once cannot together cover more than the bound,
-- the second one is checked again. Answers 1 (added), 0 (already listed) or 'changed'.
-- KEYS: whitelist, events
-- ARGV: entry, now, maxlen, n, the n entries checked, then the event's field/value pairs
local entry, now, maxlen, n = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
if redis.call('SCARD', KEYS[1]) ~= n then return 'changed' end
for i = 5, 4 + n do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then return 'changed' end
end
if redis.call('SADD', KEYS[1], entry) == 0 then return 0 end
local fields = {}
for i = 5 + n, #ARGV do fields[#fields + 1] = ARGV[i] end
audit(KEYS[2], maxlen, now, 'whitelist_added', fields)
return 1
