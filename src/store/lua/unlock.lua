-- Transition 7: an admin unlocks a `failed` device before its lock runs out; it is `needed` again
-- with its PAP, the consecutive count restarted, the total kept (unlockFailed in src/domain/auth.ts).
-- A lock that has run out reads as `needed` already (transition 3): nothing to unlock.
-- KEYS: device, locks, events   ARGV: now, maxlen, actor
-- Reply: { from = 'failed' } | { error = 'unknown_device' | 'not_failed', state = the settled state }
local dev, now, maxlen, actor = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3]
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local f = redis.call('HMGET', dev, 's', 'fu')
local failedUntil = num(f[2])
if f[1] ~= 'failed' or (failedUntil and now >= failedUntil) then
  return cjson.encode({ error = 'not_failed', state = f[1] == 'failed' and 'needed' or f[1] })
end
local mac = device_mac(dev)
redis.call('HSET', dev, 's', 'needed', 'n', 0, 'fu', '')
redis.call('ZREM', KEYS[2], mac)
audit(KEYS[3], maxlen, now, 'unlock', { 'mac', mac, 'actor', actor })
audit(KEYS[3], maxlen, now, 'transition', { 'mac', mac, 'from', 'failed', 'to', 'needed', 'reason', 'unlock' })
return cjson.encode({ from = 'failed' })
