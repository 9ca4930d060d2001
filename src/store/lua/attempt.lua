-- One PAP attempt; mirrors attemptPap() in src/domain/auth.ts.
-- KEYS: device, tempWhitelist, locks, events, source's wrong PAPs (ZSET), source's alert flag
-- ARGV: pap, now, maxConsecutive, lockSeconds, maxTotal, tempWhitelistSeconds, ip, actor, maxlen, channel,
--       source ('' = none), source limit, source window (seconds), PAP lifetime (ms, 0 = for ever)
local dev, twl, locks, events, guesses, alerted = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local given, now = ARGV[1], tonumber(ARGV[2])
local maxConsecutive, lockSeconds, maxTotal = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local twlSeconds = tonumber(ARGV[6])
-- The address a success whitelists is where the phone is (the caller's): never the device's last
-- provisioning address, which anyone who knows the MAC can set by fetching its file.
local ip, actor, maxlen, channel = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local source, srcLimit, windowSeconds = ARGV[11], tonumber(ARGV[12]), ARGV[13]
local windowMs = tonumber(windowSeconds) * 1000
local papLifetime = tonumber(ARGV[14])
if redis.call('EXISTS', dev) == 0 then return cjson.encode({ outcome = 'unknown_device' }) end

-- A source at its limit is refused before the device is read: nothing of the device changes, and
-- no event is written per refused attempt (the crossing itself was audited once).
local recent = 0
if source ~= '' then
  redis.call('ZREMRANGEBYSCORE', guesses, '-inf', now - windowMs)
  recent = redis.call('ZCARD', guesses)
  if recent >= srcLimit then
    local oldest = redis.call('ZRANGE', guesses, 0, 0, 'WITHSCORES')
    return cjson.encode({ outcome = 'source_limited', retryAt = tostring(tonumber(oldest[2]) + windowMs) })
  end
end
local f = redis.call('HMGET', dev, 's', 'n', 't', 'fu', 'p', 'pi', 'c', 'dx')
local state, consec, total, failedUntil, pap, mac = f[1], num(f[2]) or 0, num(f[3]) or 0, num(f[4]), f[5], device_mac(dev)
-- papExpired(): issued by the last reset, else when the device was added
local issued = num(f[6]) or num(f[7])

if state == 'failed' and failedUntil and now >= failedUntil then
  state, consec, failedUntil = 'needed', 0, nil
  redis.call('HSET', dev, 's', 'needed', 'n', 0, 'fu', '')
  redis.call('ZREM', locks, mac)
  audit(events, maxlen, now, 'transition', { 'mac', mac, 'from', 'failed', 'to', 'needed', 'reason', 'lock_expired' })
end

local outcome, left, whitelisted, counted, crossed = nil, 0, '', false, false
local from = state
if f[8] then
  -- disabled (attemptOnDisabled): no PAP is taken, nothing counted or whitelisted
  outcome = 'blocked'
elseif state == 'successful' then
  outcome = 'not_required'
elseif state == 'blocked' then
  outcome = 'blocked'
elseif papLifetime > 0 and issued and now >= issued + papLifetime then
  outcome = 'pap_expired'
elseif state == 'failed' then
  outcome = 'failed'
elseif same(given, pap) then
  outcome, state = 'successful', 'successful'
  redis.call('HSET', dev, 's', state, 'n', 0, 't', 0, 'fu', '', 'aa', now, 'av', 'pap')
  redis.call('HDEL', dev, 'p')
  if ip ~= '' then
    -- for the devices of this device's site only: one phone's PAP vouches for its own site
    redis.call('ZADD', twl, 'GT', now + twlSeconds * 1000, twl_member(device_text(dev, 'si'), ip))
    whitelisted = ip
  end
else
  consec, total = consec + 1, total + 1
  counted = true
  if total >= maxTotal then
    outcome, state = 'blocked', 'blocked'
    redis.call('HSET', dev, 's', state, 'n', consec, 't', total, 'fu', '')
    redis.call('ZREM', locks, mac)
  elseif consec >= maxConsecutive then
    outcome, state = 'failed', 'failed'
    failedUntil = now + lockSeconds * 1000
    redis.call('HSET', dev, 's', state, 'n', consec, 't', total, 'fu', failedUntil)
    redis.call('ZADD', locks, failedUntil, mac)
  else
    outcome = 'wrong_pap'
    redis.call('HSET', dev, 'n', consec, 't', total)
    left = math.min(maxConsecutive - consec, maxTotal - total)
  end
end

audit(events, maxlen, now, 'attempt', { 'mac', mac, 'ip', ip, 'actor', actor, 'channel', channel, 'outcome', outcome })
if state ~= from then
  audit(events, maxlen, now, 'transition', { 'mac', mac, 'from', from, 'to', state, 'reason', 'pap_' .. outcome })
end
if counted and source ~= '' then
  recent = recent + 1
  redis.call('ZADD', guesses, now, now .. '-' .. recent)
  redis.call('PEXPIRE', guesses, windowMs)
  if recent >= srcLimit and first_crossing(alerted, now, windowMs) then
    crossed = true
    audit(events, maxlen, now, 'source_limited', {
      'source', source, 'scope', 'tenant', 'mac', mac, 'count', recent, 'limit', srcLimit,
      'windowSeconds', windowSeconds,
    })
  end
end
return cjson.encode({
  outcome = outcome,
  counted = counted,
  crossed = crossed,
  attemptsLeft = left,
  state = state,
  failedUntil = failedUntil and tostring(failedUntil) or '',
  whitelistedIp = whitelisted,
  -- for metrics: the stored state, and the state this attempt started from (after a lazy settle)
  stored = f[1],
  from = from,
})
