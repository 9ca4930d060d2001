-- A full configuration was served (see record_full in prelude.lua), decided on a read of the device
-- at `generation`: 'stale' when a reset, an edit or the end of a PIN bypass came in between (each
-- bumps it), or the temporary entry the decision took went, 'gone' when the device was deleted.
-- KEYS: device, tempWhitelist, locks, then the sinks (see sinks() in prelude.lua)
-- ARGV: generation, credentialHash, the credential for Digest vendors ('' others), reason, ip, now, tempWhitelistSeconds,
--       file, the sinks' five, further field/value pairs for the provisioning event...
local dev = KEYS[1]
local generation, credHash, clear, reason, ip = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, twlSeconds, file = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
if redis.call('EXISTS', dev) == 0 then return 'gone' end
local f = redis.call('HMGET', dev, 'g', 's')
if (f[1] or '0') ~= generation then return 'stale' end
-- A temporary entry removed (untemp.lua) or run out while the file was made (gate mode asks the
-- upstream in between) lets nothing in: the decision is taken again on fresh data.
if reason == 'temporary_whitelist' and (tonumber(twl_until(KEYS[2], device_text(dev, 'si'), ip)) or 0) <= now then
  return 'stale'
end
local extra = {}
for i = 14, #ARGV do extra[#extra + 1] = ARGV[i] end
local transition = record_full(dev, KEYS[2], KEYS[3], sinks(4, 9), now, f[2], reason, credHash, clear, ip,
  twlSeconds, file, extra)
-- 'ok:<state before>' when this made the device successful (counted by the store's onTransition)
if transition then return 'ok:' .. transition end
return 'ok'
