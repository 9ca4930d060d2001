-- Releases a MAC's claim in the global index only if the tenant still holds it (another tenant may
-- have claimed it in between).   KEYS: macIndex   ARGV: tenant
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
