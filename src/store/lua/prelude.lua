-- Shared by every script (prepended at load time). Times are ms since the epoch, passed in by the
-- caller so the domain's pure functions and these scripts see the same `now`.
local function num(v)
  if v == false or v == nil or v == '' then return nil end
  return tonumber(v)
end

-- The MAC of a device hash: its key's last part (keys.ts), not stored in the hash.
local function device_mac(key)
  return string.match(key, ':dev:(%x+)$')
end

-- Appends one audit event; `fields` is a flat list of name, value pairs. Never pass a PAP here.
local function audit(key, maxlen, now, etype, fields)
  local args = { 'XADD', key, 'MAXLEN', '~', maxlen, '*', 'type', etype, 'ts', tostring(now) }
  for i = 1, #fields do args[#args + 1] = fields[i] end
  redis.call(unpack(args))
end

-- No early exit, so the time taken does not tell how many leading digits were right.
local function same(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    if string.byte(a, i) ~= string.byte(b, i) then diff = diff + 1 end
  end
  return diff == 0
end

-- True once per crossing of a guessing limit: not again until a window after the last alert. By
-- the caller's `now`, not the key's TTL (which only cleans up), so the domain's clock rules it.
local function first_crossing(flag, now, windowMs)
  local last = num(redis.call('GET', flag))
  if last and now - last < windowMs then return false end
  redis.call('SET', flag, now, 'PX', windowMs)
  return true
end

-- Records one use of a signed SIP digest nonce (its signature and age already checked by the
-- caller) in `key`, which holds the highest nonce-count seen. A request must present a larger one
-- (RFC 7616 3.4, replay protection); without qop (nc '') a nonce is single use, and its second use
-- is answered as stale so that the client asks for a new one. ttl: ms the record is kept.
local function use_nonce(key, nc, ttl)
  local seen = redis.call('GET', key)
  if nc == '' then
    if seen then return 'stale' end
    redis.call('SET', key, 'single', 'PX', ttl)
    return 'ok'
  end
  if seen == 'single' then return 'stale' end
  local n = tonumber(nc, 16)
  if n == nil or (seen and n <= tonumber(seen)) then return 'replay' end
  redis.call('SET', key, n, 'PX', ttl)
  return 'ok'
end

-- One provisioning answer on the device (last provisioning) and in the audit trail; `extra` is a
-- flat list of further field/value pairs for the event, `last` what the device records as outcome,
-- `set` further device fields to set with it (field/value pairs, or nil).
local function provisioning_event(dev, events, maxlen, now, ip, outcome, reason, file, extra, last, set)
  local fields = set or {}
  for _, v in ipairs({ 'la', now, 'li', ip, 'lo', last }) do fields[#fields + 1] = v end
  redis.call('HSET', dev, unpack(fields))
  local event = { 'mac', device_mac(dev), 'ip', ip, 'outcome', outcome, 'reason', reason, 'file', file }
  for i = 1, #extra do event[#event + 1] = extra[i] end
  audit(events, maxlen, now, 'provisioning', event)
end

-- A full configuration was served (full.lua, provision.lua). Through a bypass it marks the device
-- successful and stores the fresh credential's hash. Every full provisioning extends the IP's
-- temporary whitelist entry if it has one (XX): only a PAP success creates entries, so a phone
-- provisioning from elsewhere (a credential on the road, a suspension) does not make that network
-- trusted for the whole tenant. `state`: the stored one. Answers it when this made the device
-- successful (counted by the store's onTransition), else nil.
local function record_full(dev, twl, locks, events, maxlen, now, state, reason, credHash, ip, twlSeconds, file, extra)
  local mac = device_mac(dev)
  local transition, set = nil, nil
  if reason ~= 'credential' then
    set = { 'ch', credHash }
    if state ~= 'successful' then
      for _, v in ipairs({ 's', 'successful', 'n', 0, 't', 0, 'fu', '', 'aa', now, 'av', reason }) do
        set[#set + 1] = v
      end
      redis.call('HDEL', dev, 'p')
      redis.call('ZREM', locks, mac)
      audit(events, maxlen, now, 'transition', { 'mac', mac, 'from', state, 'to', 'successful', 'reason', reason })
      transition = state
    end
  end
  redis.call('ZREMRANGEBYSCORE', twl, '-inf', now)
  redis.call('ZADD', twl, 'XX', 'GT', now + twlSeconds * 1000, ip)
  provisioning_event(dev, events, maxlen, now, ip, 'full', reason, file, extra, 'full:' .. reason, set)
  return transition
end
