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

-- Where a script's events go. KEYS from k: the audit trail, the phone traffic stream, the client's
-- traffic gate; ARGV from a: the audit trail's maxlen, the traffic's maxlen, traffic events per client
-- and window, the window (ms), the client (an address prefix, see clientOf in src/domain/prefix.ts).
local function sinks(k, a)
  return {
    events = KEYS[k], traffic = KEYS[k + 1], gate = KEYS[k + 2],
    maxlen = ARGV[a], tmaxlen = ARGV[a + 1], limit = tonumber(ARGV[a + 2]), window = tonumber(ARGV[a + 3]),
    client = ARGV[a + 4],
  }
end

-- Appends an event to `g.stream` within a share of `g.gate` (a HASH in the tenant's slot): the first
-- `g.limit` events of a window of `g.window` ms are written, the next is replaced by
-- `<g.kind>_limited`, the rest are dropped; the first event of a later window (within two windows of
-- the flood's start) is preceded by `<g.kind>_suppressed` with the number not written. `g.who` is the
-- share's owner as a field/value pair (`client`, `mac`), named in both. `share`: nil for the owner's
-- common share (fields s and n: window start, events in it), else the name of one of its own (fields
-- s:<share> and n:<share>, named as `reason` in the summaries); an owner has few shares, so its
-- events stay bounded.
local function gated(g, now, etype, fields, share)
  local fs, fn, named = 's', 'n', {}
  if share then fs, fn, named = 's:' .. share, 'n:' .. share, { 'reason', share } end
  local h = redis.call('HMGET', g.gate, fs, fn)
  local start, n = num(h[1]), num(h[2]) or 0
  if start == nil or now >= start + g.window then
    if start and n > g.limit then
      local f = { g.who[1], g.who[2], 'count', n - g.limit, 'since', start, 'until', start + g.window }
      for _, v in ipairs(named) do f[#f + 1] = v end
      audit(g.stream, g.maxlen, now, g.kind .. '_suppressed', f)
    end
    start, n = now, 0
  end
  n = n + 1
  redis.call('HSET', g.gate, fs, start, fn, n)
  -- Set when any share starts a window: the gate then outlives every share's window by one more.
  if n == 1 then redis.call('PEXPIRE', g.gate, 2 * g.window) end
  if n <= g.limit then
    audit(g.stream, g.maxlen, now, etype, fields)
  elseif n == g.limit + 1 then
    local f = { g.who[1], g.who[2], 'limit', g.limit, 'until', start + g.window }
    for _, v in ipairs(named) do f[#f + 1] = v end
    audit(g.stream, g.maxlen, now, g.kind .. '_limited', f)
  end
end

-- Appends one event of phone traffic: what anyone can cause once per request (provisioning answers,
-- refused REGISTERs). It goes to the tenant's traffic stream, so that no amount of it trims the audit
-- trail, and at most `limit` per client, share and window (gated: `traffic_limited`,
-- `traffic_suppressed`); `share` as in gated (a refusal reason of OWN_SHARE).
local function traffic(s, now, etype, fields, share)
  gated({ stream = s.traffic, maxlen = s.tmaxlen, gate = s.gate, limit = s.limit, window = s.window,
    kind = 'traffic', who = { 'client', s.client } }, now, etype, fields, share)
end

-- Refusals with a traffic share of their own per client: OWN_SHARE_REFUSALS in
-- src/domain/provisioning.ts (a certificate or User-Agent naming another device must not hide
-- behind a flood of wrong credentials).
local OWN_SHARE = { device_certificate_mismatch = true, user_agent_mismatch = true }

-- One provisioning answer on the device (last provisioning, on every request) and as an event in
-- the phone traffic; when `audited` (the answer that made the device successful) in the audit trail
-- as well. `extra` is a flat list of further field/value pairs for the event, `last` what the device
-- records as outcome, `set` further device fields to set with it (field/value pairs, or nil).
local function provisioning_event(dev, s, now, ip, outcome, reason, file, extra, last, set, audited)
  local fields = set or {}
  for _, v in ipairs({ 'la', now, 'li', ip, 'lo', last }) do fields[#fields + 1] = v end
  redis.call('HSET', dev, unpack(fields))
  local event = { 'mac', device_mac(dev), 'ip', ip, 'outcome', outcome, 'reason', reason, 'file', file }
  for i = 1, #extra do event[#event + 1] = extra[i] end
  if audited then audit(s.events, s.maxlen, now, 'provisioning', event) end
  traffic(s, now, 'provisioning', event, outcome == 'refused' and OWN_SHARE[reason] and reason or nil)
end

-- A device text that may be stored in pieces (`name`, `name:1`, ...; see device-record.ts).
local function device_text(dev, name)
  local parts, i = { redis.call('HGET', dev, name) or '' }, 1
  while true do
    local piece = redis.call('HGET', dev, name .. ':' .. i)
    if not piece then return table.concat(parts) end
    parts[#parts + 1] = piece
    i = i + 1
  end
end

-- The temporary whitelist entry that lets devices of `site` in from `ip` (Store.temporaryWhitelist
-- reads it back). Site names hold no control characters (domain/text.ts), so \31 separates them.
-- Entries written before sites scoped them are the bare address, for the whole tenant, until they
-- expire.
local function twl_member(site, ip)
  return site .. '\31' .. ip
end

-- Until when `ip` lets devices of `site` in (ms, as Redis answers it), or false: its entry for the
-- site, or a tenant-wide one.
local function twl_until(twl, site, ip)
  return redis.call('ZSCORE', twl, twl_member(site, ip)) or redis.call('ZSCORE', twl, ip)
end

-- A full configuration was served (full.lua, provision.lua). Through a bypass it marks the device
-- successful and stores the fresh credential's hash; a suspension ends with the fetch it let in.
-- `clear`: the credential itself, kept (`cd`) for vendors that answer the challenge with Digest
-- only ('' for the others: only the hash is kept). Every full configuration ends a wait for the
-- credential (`cq`) and a "reset needed" (`nr`).
-- Every full provisioning extends the IP's temporary whitelist entry for the device's site if it
-- has one (XX): only a PAP success creates entries, so a phone provisioning from elsewhere (a
-- credential on the road, a suspension) does not make that network trusted. `state`: the stored
-- one; `s`: sinks(). Answers it when this made the device successful (counted by the store's
-- onTransition), else nil.
local function record_full(dev, twl, locks, s, now, state, reason, credHash, clear, ip, twlSeconds, file, extra)
  local mac = device_mac(dev)
  local transition, set = nil, nil
  if reason == 'suspension' then redis.call('HDEL', dev, 'su', 'sn') end
  redis.call('HDEL', dev, 'cq', 'nr')
  if reason ~= 'credential' and clear == '' then redis.call('HDEL', dev, 'cd') end
  if clear ~= '' then set = { 'cd', clear } end
  if reason ~= 'credential' then
    set = set or {}
    set[#set + 1] = 'ch'
    set[#set + 1] = credHash
    if state ~= 'successful' then
      for _, v in ipairs({ 's', 'successful', 'n', 0, 't', 0, 'fu', '', 'aa', now, 'av', reason }) do
        set[#set + 1] = v
      end
      redis.call('HDEL', dev, 'p')
      redis.call('ZREM', locks, mac)
      audit(s.events, s.maxlen, now, 'transition', { 'mac', mac, 'from', state, 'to', 'successful', 'reason', reason })
      transition = state
    end
  end
  redis.call('ZREMRANGEBYSCORE', twl, '-inf', now)
  -- Only the site's entry: a tenant-wide one of before sites expires as it was, never extended.
  redis.call('ZADD', twl, 'XX', 'GT', now + twlSeconds * 1000, twl_member(device_text(dev, 'si'), ip))
  provisioning_event(dev, s, now, ip, 'full', reason, file, extra, 'full:' .. reason, set, transition ~= nil)
  return transition
end

-- A provisioning answer that changes no state (minimal configuration, challenge, refusal), noted as
-- provisioning_event does. For a device that holds a credential (see decideProvisioning) also: a
-- challenge notes the first one from an address (`cq`, '<ms> <address>'; asked again from there,
-- the wait runs from that first one). An answer that marks the device as needing reset (a
-- challenge with reason `needs_reset`, or the minimal "reset needed" file of a device authenticated
-- without a credential) notes the request (`nr`) and, the first time since the phone last showed
-- its credential or an admin reset the device, writes `needs_reset` to the audit trail: once per
-- device and episode, so no stranger can flood it.
local function note_answer(dev, s, now, ip, outcome, reason, file, extra)
  provisioning_event(dev, s, now, ip, outcome, reason, file, extra, outcome)
  if outcome == 'challenge' then
    local cq = redis.call('HGET', dev, 'cq')
    if not cq or string.match(cq, '^%d+ (%S+)$') ~= ip then redis.call('HSET', dev, 'cq', now .. ' ' .. ip) end
  end
  if reason == 'needs_reset' or (outcome == 'minimal' and reason == 'reset') then
    if redis.call('HSETNX', dev, 'nr', now .. ' ' .. ip) == 1 then
      audit(s.events, s.maxlen, now, 'needs_reset', { 'mac', device_mac(dev), 'ip', ip, 'file', file })
    else
      redis.call('HSET', dev, 'nr', now .. ' ' .. ip)
    end
  end
end
