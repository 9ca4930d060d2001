-- Transition 3 applied eagerly by the lock watcher, so the phone can be told its lock ran out.
-- KEYS: device, locks, events   ARGV: mac, now, maxlen
local mac, now, maxlen = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], mac)
  return 0
end
local f = redis.call('HMGET', KEYS[1], 's', 'fu')
local failedUntil = num(f[2])
if f[1] ~= 'failed' then
  redis.call('ZREM', KEYS[2], mac)
  return 0
end
if not failedUntil or now < failedUntil then return 0 end
redis.call('HSET', KEYS[1], 's', 'needed', 'n', 0, 'fu', '')
redis.call('ZREM', KEYS[2], mac)
audit(KEYS[3], maxlen, now, 'transition', { 'mac', mac, 'from', 'failed', 'to', 'needed', 'reason', 'lock_expired' })
return 1
