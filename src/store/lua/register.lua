-- A REGISTER's store work after its digest response was checked, in one step: the device must still
-- be the one checked (not deleted, same SIP password, not `successful` meanwhile), the nonce-count
-- is consumed (use_nonce), then the binding is replaced, or removed when its ttl is 0.
-- Answers use_nonce's answer, 'changed', or 'refreshed' (ok, and the phone is reachable where it was).
-- KEYS: nonce-count record, device, registration
-- ARGV: nc (hex) or '', record ttl (ms), sipPassword, binding ttl (s), then binding field/value pairs
local f = redis.call('HMGET', KEYS[2], 'sp', 's')
if not same(f[1], ARGV[3]) or f[2] == 'successful' then return 'changed' end
local use = use_nonce(KEYS[1], ARGV[1], ARGV[2])
if use ~= 'ok' then return use end
local ttl = tonumber(ARGV[4])
if ttl == 0 then
  redis.call('DEL', KEYS[3])
  return 'ok'
end
local fields, new = {}, {}
for i = 5, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  new[ARGV[i]] = ARGV[i + 1]
end
local old = redis.call('HMGET', KEYS[3], 'contact', 'address', 'port', 'protocol')
local same_place = old[1] == new.contact and old[2] == new.address and old[3] == new.port and old[4] == new.protocol
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('EXPIRE', KEYS[3], ttl)
if same_place then return 'refreshed' end
return 'ok'
