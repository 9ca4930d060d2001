-- One PAP attempt; mirrors attemptPap() in src/domain/auth.ts.
-- KEYS: device, tempWhitelist, locks, events
-- ARGV: pap, now, maxConsecutive, lockSeconds, maxTotal, tempWhitelistSeconds, ip, actor, maxlen, channel
local dev, twl, locks, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, maxlen = tonumber(ARGV[2]), ARGV[9]
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ outcome = 'unknown_device' }) end
local f = redis.call('HMGET', dev, 'state', 'consec', 'total', 'failedUntil', 'pap', 'lastProvIp', 'mac')
local state, consec, total, failedUntil, pap, mac = f[1], num(f[2]) or 0, num(f[3]) or 0, num(f[4]), f[5], f[7]
local ip = ARGV[7]
if ip == '' then ip = f[6] or '' end
local actor, channel = ARGV[8], ARGV[10]

if state == 'failed' and failedUntil and now >= failedUntil then
  state, consec, failedUntil = 'needed', 0, nil
  redis.call('HSET', dev, 'state', 'needed', 'consec', 0, 'failedUntil', '')
  redis.call('ZREM', locks, mac)
  audit(events, maxlen, now, 'transition', { 'mac', mac, 'from', 'failed', 'to', 'needed', 'reason', 'lock_expired' })
end

local outcome, left, whitelisted = nil, 0, ''
local from = state
if state == 'successful' then
  outcome = 'not_required'
elseif state == 'blocked' then
  outcome = 'blocked'
elseif state == 'failed' then
  outcome = 'failed'
elseif same(ARGV[1], pap) then
  outcome, state = 'successful', 'successful'
  redis.call('HSET', dev, 'state', state, 'consec', 0, 'total', 0, 'failedUntil', '', 'authAt', now, 'authVia', 'pap')
  redis.call('HDEL', dev, 'pap')
  if ip ~= '' then
    redis.call('ZADD', twl, 'GT', now + tonumber(ARGV[6]) * 1000, ip)
    whitelisted = ip
  end
else
  consec, total = consec + 1, total + 1
  if total >= tonumber(ARGV[5]) then
    outcome, state = 'blocked', 'blocked'
    redis.call('HSET', dev, 'state', state, 'consec', consec, 'total', total, 'failedUntil', '')
    redis.call('ZREM', locks, mac)
  elseif consec >= tonumber(ARGV[3]) then
    outcome, state = 'failed', 'failed'
    failedUntil = now + tonumber(ARGV[4]) * 1000
    redis.call('HSET', dev, 'state', state, 'consec', consec, 'total', total, 'failedUntil', failedUntil)
    redis.call('ZADD', locks, failedUntil, mac)
  else
    outcome = 'wrong_pap'
    redis.call('HSET', dev, 'consec', consec, 'total', total)
    left = math.min(tonumber(ARGV[3]) - consec, tonumber(ARGV[5]) - total)
  end
end

audit(events, maxlen, now, 'attempt', { 'mac', mac, 'ip', ip, 'actor', actor, 'channel', channel, 'outcome', outcome })
if state ~= from then
  audit(events, maxlen, now, 'transition', { 'mac', mac, 'from', from, 'to', state, 'reason', 'pap_' .. outcome })
end
return cjson.encode({
  outcome = outcome,
  attemptsLeft = left,
  state = state,
  failedUntil = failedUntil and tostring(failedUntil) or '',
  whitelistedIp = whitelisted,
})
