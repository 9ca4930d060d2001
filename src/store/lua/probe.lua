-- A tenant token was about to be told that some MACs it named belong to other tenants: counted per
-- tenant in a fixed window, so that a token cannot map other tenants' devices (a MAC oracle), and
-- audited in the asking tenant. Within the limit the answer may list them (`mac_registered_elsewhere`,
-- each such answer audited); the request that goes past it is refused, audited once
-- (`mac_probe_limited`), and so is every addition of the tenant until the window ends (the caller
-- checks the counter first: probeRetryAt).
-- KEYS: counter, events   ARGV: now, maxlen, limit, window (ms), actor, count, the first MACs (text)
-- Reply: { MACs counted in the window, the window's end (ms) when refused, else 0 }
local now, maxlen, limit, windowMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local actor, count, macs = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local n = redis.call('INCRBY', KEYS[1], count)
if n == count then redis.call('PEXPIRE', KEYS[1], windowMs) end
if n <= limit then
  audit(KEYS[2], maxlen, now, 'mac_registered_elsewhere', { 'actor', actor, 'count', count, 'macs', macs })
  return { n, 0 }
end
local ends = now + redis.call('PTTL', KEYS[1])
if n - count < limit then
  audit(KEYS[2], maxlen, now, 'mac_probe_limited',
    { 'actor', actor, 'count', n, 'limit', limit, 'until', ends, 'macs', macs })
end
return { n, ends }
