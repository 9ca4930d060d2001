-- Transition 3 applied eagerly by the lock watcher, so the phone can be told its lock ran out.
-- KEYS: device, locks, events   ARGV: mac, now, maxlen
local now = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local f = redis.call('HMGET', KEYS[1], 's', 'fu')
local failedUntil = num(f[2])
if f[1] ~= 'failed' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if not failedUntil or now < failedUntil then return 0 end
redis.call('HSET', KEYS[1], 's', 'needed', 'n', 0, 'fu', '')
redis.call('ZREM', KEYS[2], ARGV[1])
audit(KEYS[3], ARGV[3], now, 'transition', { 'mac', ARGV[1], 'from', 'failed', 'to', 'needed', 'reason', 'lock_expired' })
return 1
