-- Transition 5: new PAP, counters cleared, credential revoked, suspension cleared.
-- KEYS: device, locks, events   ARGV: pap, now, maxlen, actor
local dev = KEYS[1]
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local f = redis.call('HMGET', dev, 'state', 'mac')
local now = tonumber(ARGV[2])
local gen = redis.call('HINCRBY', dev, 'gen', 1)
redis.call('HSET', dev, 'state', 'needed', 'pap', ARGV[1], 'consec', 0, 'total', 0, 'failedUntil', '',
  'suspendedUntil', '', 'credHash', '', 'authAt', '', 'authVia', '')
redis.call('ZREM', KEYS[2], f[2])
audit(KEYS[3], ARGV[3], now, 'reset', { 'mac', f[2], 'actor', ARGV[4] })
audit(KEYS[3], ARGV[3], now, 'transition', { 'mac', f[2], 'from', f[1], 'to', 'needed', 'reason', 'reset' })
return cjson.encode({ generation = gen, from = f[1] })
