-- A full configuration was served. Through a bypass it marks the device successful and stores the
-- fresh credential's hash. Every full provisioning extends the IP's temporary whitelist entry if it
-- has one (XX): only a PAP success creates entries, so a phone provisioning from elsewhere (a
-- credential on the road, a suspension) does not make that network trusted for the whole tenant.
-- KEYS: device, tempWhitelist, locks, events
-- ARGV: generation, credentialHash, reason, ip, now, tempWhitelistSeconds, maxlen, file,
--       further field/value pairs for the provisioning event...
local dev = KEYS[1]
if redis.call('EXISTS', dev) == 0 then return 'gone' end
local f = redis.call('HMGET', dev, 'gen', 'state', 'mac')
if (f[1] or '0') ~= ARGV[1] then return 'stale' end
local now, reason, ip = tonumber(ARGV[5]), ARGV[3], ARGV[4]
local transition = nil
if reason ~= 'credential' then
  redis.call('HSET', dev, 'credHash', ARGV[2])
  if f[2] ~= 'successful' then
    redis.call('HSET', dev, 'state', 'successful', 'consec', 0, 'total', 0, 'failedUntil', '',
      'authAt', now, 'authVia', reason)
    redis.call('HDEL', dev, 'pap')
    redis.call('ZREM', KEYS[3], f[3])
    audit(KEYS[4], ARGV[7], now, 'transition', { 'mac', f[3], 'from', f[2], 'to', 'successful', 'reason', reason })
    transition = f[2]
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], 'XX', 'GT', now + tonumber(ARGV[6]) * 1000, ip)
redis.call('HSET', dev, 'lastProvAt', now, 'lastProvIp', ip, 'lastProvOutcome', 'full:' .. reason)
local fields = { 'mac', f[3], 'ip', ip, 'outcome', 'full', 'reason', reason, 'file', ARGV[8] }
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
audit(KEYS[4], ARGV[7], now, 'provisioning', fields)
-- 'ok:<state before>' when this made the device successful (counted by the store's onTransition)
if transition then return 'ok:' .. transition end
return 'ok'
