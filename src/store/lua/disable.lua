-- An admin disables or enables a device (docs/security.md, States and transitions): disabled, it
-- gets only the minimal configuration and takes no PAP; the state is unchanged. Disabling bumps the
-- generation, so a full configuration decided before cannot be recorded after (full.lua).
-- KEYS: device, events   ARGV: 'disable' | 'enable', now, maxlen, actor
-- Reply: 1 done, 0 already so, -1 unknown device
local dev, op, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', dev) == 0 then return -1 end
local disabled = redis.call('HEXISTS', dev, 'dx') == 1
if (op == 'disable') == disabled then return 0 end
if op == 'disable' then
  redis.call('HSET', dev, 'dx', now)
  redis.call('HINCRBY', dev, 'g', 1)
else
  redis.call('HDEL', dev, 'dx')
end
audit(KEYS[2], ARGV[3], now, op == 'disable' and 'device_disabled' or 'device_enabled', { 'mac', device_mac(dev), 'actor', ARGV[4] })
return 1
