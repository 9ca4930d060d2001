-- KEYS: device, devices, locks, events, registration   ARGV: mac, now, maxlen, actor
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[5])
audit(KEYS[4], ARGV[3], tonumber(ARGV[2]), 'device_deleted', { 'mac', ARGV[1], 'actor', ARGV[4] })
return 1
