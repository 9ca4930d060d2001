-- KEYS: device, devices, locks, events, registration, settings
-- ARGV: mac, now, maxlen, actor, the device's fields of the settings hash...
local mac, now, maxlen, actor = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], mac)
redis.call('ZREM', KEYS[3], mac)
redis.call('DEL', KEYS[5])
-- A device created again with this MAC starts without the deleted one's settings.
for i = 5, #ARGV do redis.call('HDEL', KEYS[6], ARGV[i]) end
audit(KEYS[4], maxlen, now, 'device_deleted', { 'mac', mac, 'actor', actor })
return 1
