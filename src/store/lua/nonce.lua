-- Consumes one use of a SIP digest nonce. The key's value is the highest nonce-count seen; a request
-- must present a larger one (RFC 7616 3.4, replay protection). Without qop (nc empty) the nonce is
-- single use.   KEYS: nonce   ARGV: nc (hex) or ''
local v = redis.call('GET', KEYS[1])
if not v then return 'stale' end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
local nc = tonumber(ARGV[1], 16)
if nc == nil or nc <= tonumber(v) then return 'replay' end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 'stale' end
redis.call('SET', KEYS[1], nc, 'PX', ttl)
return 'ok'
