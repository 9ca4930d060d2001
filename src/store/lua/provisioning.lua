-- Everything a provisioning decision reads of the device's tenant, in one round trip; the
-- decision and its writes follow (full.lua, note.lua).
-- KEYS: device, tenant, whitelist, tempWhitelist   ARGV: ip
-- Reply: {} for no device; else { device hash, tenant hash (both as flat field/value lists),
--        whitelist entries, the ip's expiry on the temporary whitelist for the device's site
--        (nil: none) }
local ip = ARGV[1]
local dev = redis.call('HGETALL', KEYS[1])
if #dev == 0 then return {} end
local site = device_text(KEYS[1], 'si')
return { dev, redis.call('HGETALL', KEYS[2]), redis.call('SMEMBERS', KEYS[3]), twl_until(KEYS[4], site, ip) }
