-- Releases a MAC's claim in the global index only if the tenant still holds it (another tenant may
-- have claimed it in between).   KEYS: the MAC index's bucket   ARGV: mac, tenant
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
