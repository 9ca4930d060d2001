-- Creates one chunk of a device addition of one tenant (Store.createDevices), all or nothing.
-- KEYS: tenantInfo, devices, events, device1..deviceN
-- ARGV: now, maxlen, actor, json1..jsonN ({ mac, vendor, site, hash = flat field map of the device hash })
local now, maxlen, actor = tonumber(ARGV[1]), ARGV[2], ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 0 then return cjson.encode({ error = 'unknown_tenant' }) end
local existing = {}
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then existing[#existing + 1] = i - 3 end
end
if #existing > 0 then return cjson.encode({ error = 'exists', rows = existing }) end
for i = 4, #KEYS do
  local d = cjson.decode(ARGV[i])
  local args = { 'HSET', KEYS[i] }
  for k, v in pairs(d.hash) do
    args[#args + 1] = k
    args[#args + 1] = v
  end
  redis.call(unpack(args))
  redis.call('ZADD', KEYS[2], now, d.mac)
  audit(KEYS[3], maxlen, now, 'device_added', { 'mac', d.mac, 'actor', actor, 'vendor', d.vendor, 'site', d.site })
end
return cjson.encode({ created = #KEYS - 3 })
