-- An admin accepts the model a mismatching User-Agent named (acceptSeenModel in
-- src/domain/device.ts): it becomes the device's model (by its canonical name), the mismatch is
-- cleared, audited with both models. Only the model the admin was shown: a later mismatch that named
-- another is 'changed'.
-- KEYS: device, events   ARGV: now, maxlen, actor, the model the User-Agent named, its canonical name
-- Reply: { from = the model before } | { error = 'unknown_device' | 'changed' }
local dev, now, seen, model = KEYS[1], tonumber(ARGV[1]), ARGV[4], ARGV[5]
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ error = 'unknown_device' }) end
if redis.call('HGET', dev, 'uo') ~= seen then return cjson.encode({ error = 'changed' }) end
local from = device_text(dev, 'md')
-- The model as one field (at most 64 bytes: strangerText); any pieces of the old one go.
local i = 1
while redis.call('HDEL', dev, 'md:' .. i) == 1 do i = i + 1 end
redis.call('HSET', dev, 'md', model)
redis.call('HDEL', dev, 'um', 'uo')
audit(KEYS[2], ARGV[2], now, 'model_accepted', { 'mac', device_mac(dev), 'from', from, 'to', model, 'actor', ARGV[3] })
return cjson.encode({ from = from })
