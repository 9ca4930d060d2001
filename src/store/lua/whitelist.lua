-- Adds or removes a permanent whitelist entry with its index member, its audit event and the
-- coverage the caller counted from the version it read (coverageChange in src/domain/whitelist.ts,
-- checked against the bound there): every change bumps the version, so two admins at once cannot
-- together pass the bound, the second one counts again. Also writes the index and coverage of a
-- whitelist kept before them ('index'), while the whitelist still holds exactly the entries read.
-- Answers 1 (done), 0 (already listed / not listed), 'full' (WHITELIST_MAX_ENTRIES) or 'changed'.
-- KEYS: whitelist, index, coverage, events
-- ARGV: 'add' | 'remove', entry, index member, version read ('' none), IPv4 covered, IPv6 covered,
--       max entries ('' none), now, maxlen, then the event's field/value pairs
--   or: 'index', n, the n entries, their n index members, IPv4 covered, IPv6 covered
local op = ARGV[1]
local version = redis.call('HGET', KEYS[3], 'v')
if op == 'index' then
  local n = tonumber(ARGV[2])
  if version or redis.call('SCARD', KEYS[1]) ~= n then return 'changed' end
  for i = 3, 2 + n do
    if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then return 'changed' end
  end
  redis.call('DEL', KEYS[2])
  for i = 3 + n, 2 + 2 * n do redis.call('ZADD', KEYS[2], 0, ARGV[i]) end
  redis.call('HSET', KEYS[3], '4', ARGV[3 + 2 * n], '6', ARGV[4 + 2 * n], 'v', 1)
  return 1
end
if (version or '') ~= ARGV[4] then return 'changed' end
-- A whitelist kept before the coverage was is indexed first (see Whitelists.counted).
if not version and redis.call('SCARD', KEYS[1]) > 0 then return 'changed' end
local fields = {}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
if op == 'add' then
  if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 0 end
  if ARGV[7] ~= '' and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[7]) then return 'full' end
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], 0, ARGV[3])
else
  if redis.call('SREM', KEYS[1], ARGV[2]) == 0 then return 0 end
  redis.call('ZREM', KEYS[2], ARGV[3])
end
redis.call('HSET', KEYS[3], '4', ARGV[5], '6', ARGV[6])
redis.call('HINCRBY', KEYS[3], 'v', 1)
audit(KEYS[4], ARGV[9], tonumber(ARGV[8]), op == 'add' and 'whitelist_added' or 'whitelist_removed', fields)
return 1
