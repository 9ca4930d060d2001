-- Admin suspension: no authentication required until ARGV[1]; the state itself is unchanged.
-- KEYS: device, events   ARGV: until, now, maxlen, actor
if redis.call('EXISTS', KEYS[1]) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local mac = device_mac(KEYS[1])
redis.call('HSET', KEYS[1], 'su', ARGV[1])
audit(KEYS[2], ARGV[3], tonumber(ARGV[2]), 'suspend', { 'mac', mac, 'actor', ARGV[4], 'until', ARGV[1] })
return cjson.encode({ suspendedUntil = ARGV[1] })
