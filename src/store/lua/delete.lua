-- KEYS: device, devices, locks, events, registration   ARGV: mac, now, maxlen, actor
local mac, now, maxlen, actor = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], mac)
redis.call('ZREM', KEYS[3], mac)
redis.call('DEL', KEYS[5])
audit(KEYS[4], maxlen, now, 'device_deleted', { 'mac', mac, 'actor', actor })
return 1
