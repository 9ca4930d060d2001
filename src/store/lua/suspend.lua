-- Admin suspension: no authentication required until ARGV[1] for fetches from the network ARGV[5]
-- ('' for none: any); the state itself is unchanged.
-- KEYS: device, events   ARGV: until, now, maxlen, actor, network
if redis.call('EXISTS', KEYS[1]) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local mac = device_mac(KEYS[1])
redis.call('HSET', KEYS[1], 'su', ARGV[1])
local event = { 'mac', mac, 'actor', ARGV[4], 'until', ARGV[1] }
if ARGV[5] == '' then
  redis.call('HDEL', KEYS[1], 'sn')
else
  redis.call('HSET', KEYS[1], 'sn', ARGV[5])
  event[#event + 1], event[#event + 2] = 'network', ARGV[5]
end
audit(KEYS[2], ARGV[3], tonumber(ARGV[2]), 'suspend', event)
return cjson.encode({ suspendedUntil = ARGV[1] })
