-- Reserves one wrong PAP of a source in its all-tenants window (a single key in its own slot: the
-- tenant's attempt script cannot reach it). The caller releases the reservation (ZREM) when the
-- attempt turns out not to be a wrong PAP, so concurrent attempts can never overshoot the limit;
-- one left behind by a crash only counts until the window ends.
-- KEYS: source's wrong PAPs (ZSET)
-- ARGV: now, limit, window (seconds), member
local key, now, limit, windowMs = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]) * 1000
local member = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return { 0, tostring(tonumber(oldest[2]) + windowMs) }
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, windowMs)
return { 1, tostring(count + 1) }
