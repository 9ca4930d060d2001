-- A tenant token was about to be told that some MACs it named belong to other tenants: counted per
-- tenant in a fixed window, so that a token cannot map other tenants' devices (a MAC oracle), and
-- audited in the asking tenant. Within the limit the answer may list them (`mac_registered_elsewhere`,
-- each such answer audited); the request that goes past it is refused, audited once
-- (`mac_probe_limited`), and so is every addition of the tenant until the window ends (the caller
-- checks the counter first: probeRetryAt).
-- KEYS: counter, events   ARGV: now, maxlen, limit, window (ms), actor, count, the first MACs (text)
-- Reply: { MACs counted in the window, the window's end (ms) when refused, else 0 }
local now, limit, count = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[6])
local n = redis.call('INCRBY', KEYS[1], count)
if n == count then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if n <= limit then
  audit(KEYS[2], ARGV[2], now, 'mac_registered_elsewhere', { 'actor', ARGV[5], 'count', count, 'macs', ARGV[7] })
  return { n, 0 }
end
local ends = now + redis.call('PTTL', KEYS[1])
if n - count < limit then
  audit(KEYS[2], ARGV[2], now, 'mac_probe_limited',
    { 'actor', ARGV[5], 'count', n, 'limit', limit, 'until', ends, 'macs', ARGV[7] })
end
return { n, ends }
