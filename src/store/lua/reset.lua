-- Transition 5: new PAP, counters cleared, credential revoked (its hash, for Digest vendors the
-- credential itself, and with it any wait for it or "reset needed"), suspension cleared.
-- KEYS: device, locks, events   ARGV: pap, now, maxlen, actor
local dev = KEYS[1]
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ error = 'unknown_device' }) end
local from, mac = redis.call('HGET', dev, 's'), device_mac(dev)
local now = tonumber(ARGV[2])
local gen = redis.call('HINCRBY', dev, 'g', 1)
redis.call('HSET', dev, 's', 'needed', 'p', ARGV[1], 'pi', now, 'n', 0, 't', 0)
redis.call('HDEL', dev, 'fu', 'su', 'sn', 'ch', 'cd', 'cq', 'nr', 'aa', 'av')
redis.call('ZREM', KEYS[2], mac)
audit(KEYS[3], ARGV[3], now, 'reset', { 'mac', mac, 'actor', ARGV[4] })
audit(KEYS[3], ARGV[3], now, 'transition', { 'mac', mac, 'from', from, 'to', 'needed', 'reason', 'reset' })
return cjson.encode({ generation = gen, from = from })
