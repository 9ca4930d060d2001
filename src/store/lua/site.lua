-- Site records (src/store/sites.ts) and their audit events, atomically.
-- KEYS: sites (HASH name -> JSON record), events
-- put:    ARGV: 'put', now, maxlen, actor, name, json   -> 'created' | 'updated'
-- delete: ARGV: 'delete', now, maxlen, actor, name      -> 1 | 0
local now, maxlen, actor, name = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if ARGV[1] == 'put' then
  local created = redis.call('HSET', KEYS[1], name, ARGV[6]) == 1
  audit(KEYS[2], maxlen, now, 'site_put', { 'site', name, 'actor', actor })
  if created then return 'created' end
  return 'updated'
elseif ARGV[1] == 'delete' then
  local n = redis.call('HDEL', KEYS[1], name)
  if n == 1 then audit(KEYS[2], maxlen, now, 'site_deleted', { 'site', name, 'actor', actor }) end
  return n
end
return redis.error_reply('unknown op ' .. ARGV[1])
