-- A REGISTER's store work after its digest response was checked, in one step: the device must still
-- be the one checked (not deleted, same SIP password; and the same state when the caller decided on
-- a login it remembered rather than read: SipStore.knownLogin), the nonce-count
-- is consumed (use_nonce), then the binding of the REGISTER's source address is replaced, or removed
-- when its ttl is 0. A device keeps one binding per source address (at most `most`): anyone who
-- fetched the minimal file can register it from their own address, and must not thereby replace
-- the binding of the phone (SipStore.registrations).
-- Answers use_nonce's answer, 'changed', or 'refreshed' (ok, and the phone is reachable where it was).
-- KEYS: nonce-count record, device, registrations
-- ARGV: nc (hex) or '', record ttl (ms), sipPassword, binding ttl (s), most bindings, now (ms),
--       source address, binding (JSON: contact, port, protocol, expiresAt, userAgent, callId),
--       state remembered or ''
local nc, recordTtl, sipPassword = ARGV[1], ARGV[2], ARGV[3]
local ttl, most, now, address, binding = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8]
local state = ARGV[9]
local f = redis.call('HMGET', KEYS[2], 'sp', 's')
if not same(f[1], sipPassword) then return 'changed' end
if state ~= '' and f[2] ~= state then return 'changed' end
local use = use_nonce(KEYS[1], nc, recordTtl)
if use ~= 'ok' then return use end
local old = redis.call('HGET', KEYS[3], address)
if ttl == 0 then
  redis.call('HDEL', KEYS[3], address)
  return 'ok'
end
-- A refresh (the common case): the binding's JSON up to its expiresAt (contact, port, protocol, in
-- SipStore.register's order) is what it was. No other binding is added or moved, so none needs
-- decoding; expired ones go at the next REGISTER that is not a refresh, or with the key.
local cut = string.find(binding, ',"expiresAt":', 1, true)
if old and cut and string.sub(old, 1, cut) == string.sub(binding, 1, cut) then
  local at = tonumber(string.match(binding, '^,"expiresAt":(%d+)', cut))
  redis.call('HSET', KEYS[3], address, binding)
  if at and at - now > redis.call('PTTL', KEYS[3]) then redis.call('PEXPIREAT', KEYS[3], at) end
  return 'refreshed'
end
local new = cjson.decode(binding)
-- Expired bindings go; when still full, the one that would expire first makes room.
local live, soonest, soonestAt, latest = 0, nil, nil, new.expiresAt
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  local at = cjson.decode(all[i + 1]).expiresAt
  if at <= now then
    redis.call('HDEL', KEYS[3], all[i])
  elseif all[i] ~= address then
    live = live + 1
    if soonestAt == nil or at < soonestAt then soonest, soonestAt = all[i], at end
    if at > latest then latest = at end
  end
end
if live >= most and soonest then redis.call('HDEL', KEYS[3], soonest) end
redis.call('HSET', KEYS[3], address, binding)
redis.call('PEXPIREAT', KEYS[3], latest)
return 'ok'
