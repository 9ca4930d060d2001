-- One provisioning request decided and recorded in one round trip (Store.provision), for a device
-- whose vendor and model and whose tenant's certificate policy the caller knows from an earlier
-- request: it answers { 'unsure' } when they changed (or the device is gone), and the caller
-- decides the long way. Mirrors decideProvisioning() in src/domain/provisioning.ts, the certificate
-- check excepted, which the caller made for the policy it names; test/provisioning-table.test.ts
-- runs the same cases through both.
-- KEYS: device, tenant, whitelist, tempWhitelist, locks, the address's miss counter, then the sinks
--       (see sinks() in prelude.lua)
-- ARGV: vendor, model, policy, refusal by the certificate ('' none), stored hash of the presented
--       credential ('' none), stored hash of a fresh credential, ip, now, tempWhitelistSeconds,
--       file, miss limit, the whitelist entries that contain ip (each between spaces), the
--       presented and the fresh credential to keep for a Digest vendor ('' otherwise: see
--       record_full), how long a challenge may stay unanswered (ms, CHALLENGE_GRACE_MS), the
--       sinks' five, further field/value pairs for the provisioning event...
-- Reply: { 'limited' } (over the miss limit, nothing written) | { 'unsure' } | { 'refused', reason }
--        | { 'challenge', 'no_credential' | 'needs_reset' }
--        | { 'full', reason, the device fields a full configuration is made of (flat field/value
--            list), the state before when this made the device successful (else false), the
--            tenant's fields }
--        | { 'minimal', reason, the device fields a minimal configuration is made of, false, the
--            tenant's fields }
--        The tenant's fields: { language, time zone, NTP server, phone language, settings version }
--        ('' unset), what the settings of the file are made of (src/store/settings.ts).
local dev = KEYS[1]
if tonumber(redis.call('GET', KEYS[6]) or '0') > tonumber(ARGV[11]) then return { 'limited' } end
-- Every field read at once, the first pieces of the accounts text included (see device-record.ts).
local f = redis.call('HMGET', dev, 's', 'v', 'md', 'md:1', 'fu', 'su', 'ch', 'sp', 'l', 'a', 'a:1', 'a:2', 'si', 'si:1',
  'cq', 'sn', 'dx')
local t = redis.call('HMGET', KEYS[2], 'deviceCertificate', 'language', 'timeZone', 'ntpServer', 'phoneLanguage', 'sv')
local policy = t[1]
if policy ~= 'required' and policy ~= 'off' then policy = 'recorded' end
if not f[1] or f[2] ~= ARGV[1] or f[3] ~= ARGV[2] or f[4] or policy ~= ARGV[3] then return { 'unsure' } end
-- A disabled device (rare) is decided the long way: decideProvisioning's first rule after the certificate.
if f[17] then return { 'unsure' } end

local now, ip, file, containing, s = tonumber(ARGV[8]), ARGV[7], ARGV[10], ARGV[12], sinks(7, 16)
local extra = {}
for i = 21, #ARGV do extra[#extra + 1] = ARGV[i] end
-- Transition 3 as settle() applies it: a `failed` lock that has run out reads as `needed`.
local state, failedUntil, suspendedUntil = f[1], num(f[5]), num(f[6])
if state == 'failed' and failedUntil and now >= failedUntil then state = 'needed' end

-- minimalDisplay() in src/domain/display.ts
local display = (state == 'blocked' or state == 'failed') and state or (state == 'successful' and 'reset' or 'needed')
local outcome, reason
if ARGV[4] ~= '' then
  outcome, reason = 'refused', ARGV[4]
elseif ARGV[5] ~= '' then
  -- A credential that no longer matches (reset, re-created device) is refused, never downgraded.
  if f[7] and same(ARGV[5], f[7]) then outcome, reason = 'full', 'credential'
  else outcome, reason = 'refused', 'wrong_credential' end
elseif f[7] then
  -- A device that holds its credential is that phone's: no bypass hands it to another. Asked
  -- without it, the phone is challenged, always: asked again from where a challenge went
  -- unanswered a while ago, it may have nothing to answer with, or be a stranger behind the
  -- phone's address, so the device is only marked as needing reset (see note_answer).
  local at, from = string.match(f[15] or '', '^(%d+) (%S+)$')
  local unanswered = at and from == ip and now - tonumber(at) >= tonumber(ARGV[15])
  outcome, reason = 'challenge', unanswered and 'needs_reset' or 'no_credential'
elseif suspendedUntil and now < suspendedUntil
  and (not f[16] or string.find(containing, ' ' .. f[16] .. ' ', 1, true)) then
  -- suspensionLetsIn(): only a fetch from the network the suspension is bound to, if any.
  outcome, reason = 'full', 'suspension'
else
  -- A short whitelist is read whole; a long one is asked for the entries that would contain ip.
  local listed, size = false, redis.call('SCARD', KEYS[3])
  if size > 0 and size <= 64 then
    for _, e in ipairs(redis.call('SMEMBERS', KEYS[3])) do
      if string.find(containing, ' ' .. e .. ' ', 1, true) then listed = true end
    end
  elseif size > 64 then
    local wanted = {}
    for e in string.gmatch(containing, '%S+') do wanted[#wanted + 1] = e end
    for _, hit in ipairs(redis.call('SMISMEMBER', KEYS[3], unpack(wanted))) do
      if hit == 1 then listed = true end
    end
  end
  local site = f[14] and device_text(dev, 'si') or f[13] or ''
  local temporary = not listed and num(twl_until(KEYS[4], site, ip))
  if listed then
    outcome, reason = 'full', 'whitelist'
  elseif temporary and temporary > now and state ~= 'blocked' then
    outcome, reason = 'full', 'temporary_whitelist'
  else
    outcome, reason = 'minimal', display
  end
end

local transition = false
if outcome == 'full' then
  transition = record_full(dev, KEYS[4], KEYS[5], s, now, f[1], reason, ARGV[6],
    reason == 'credential' and ARGV[13] or ARGV[14], ip, tonumber(ARGV[9]), file, extra) or false
else
  note_answer(dev, s, now, ip, outcome, reason, file, extra)
end
if outcome == 'refused' then return { outcome, reason } end
if outcome == 'challenge' then return { outcome, reason } end
-- Only what the file is rendered from: the whole hash would cost more than everything else here.
local out = { 'v', ARGV[1], 'md', ARGV[2], 's', f[1], 'si', f[14] and device_text(dev, 'si') or f[13] or '' }
local tenant = { t[2] or '', t[3] or '', t[4] or '', t[5] or '', t[6] or '' }
if outcome == 'full' then
  local piece, i = f[10], 0
  while piece do
    out[#out + 1] = i == 0 and 'a' or 'a:' .. i
    out[#out + 1] = piece
    i = i + 1
    piece = (i <= 2 and f[10 + i]) or (i > 2 and redis.call('HGET', dev, 'a:' .. i))
  end
  return { outcome, reason, out, transition, tenant }
end
for i, name in pairs({ [5] = 'fu', [8] = 'sp', [9] = 'l' }) do
  if f[i] then
    out[#out + 1] = name
    out[#out + 1] = f[i]
  end
end
return { outcome, reason, out, false, tenant }
