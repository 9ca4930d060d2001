-- Releases a MAC's claim in the global index only if the tenant still holds it (another tenant may
-- have claimed it in between).   KEYS: the MAC index's bucket   ARGV: mac, tenant
local mac, tenant = ARGV[1], ARGV[2]
if redis.call('HGET', KEYS[1], mac) == tenant then return redis.call('HDEL', KEYS[1], mac) end
return 0
