-- An admin ends a PIN bypass before it runs out (endPinBypass in src/domain/auth.ts); the state is
-- unchanged. A bypass that has run out is none: nothing is written.
-- KEYS: device, events   ARGV: now, maxlen, actor
-- Reply: { ended = the bypass's end as it was (ms) } | { error = 'unknown_device' | 'no_bypass' }
local dev, now = KEYS[1], tonumber(ARGV[1])
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local f = redis.call('HMGET', dev, 'su', 'sn')
local untilMs = num(f[1])
if not untilMs or now >= untilMs then return cjson.encode({ error = 'no_bypass' }) end
redis.call('HDEL', dev, 'su', 'sn')
-- A full file the bypass let in and not yet recorded (gate mode asks the upstream first) is not
-- recorded now (full.lua): its request is decided again.
redis.call('HINCRBY', dev, 'g', 1)
local event = { 'mac', device_mac(dev), 'actor', ARGV[3], 'until', f[1] }
if f[2] then event[#event + 1], event[#event + 2] = 'network', f[2] end
audit(KEYS[2], ARGV[2], now, 'pin_bypass_ended', event)
return cjson.encode({ ended = f[1] })
