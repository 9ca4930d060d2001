-- Replaces a device hash of an older layout by its current form (computed by schema.ts), unless
-- the hash changed after schema.ts read it.
-- KEYS: device   ARGV: the hash as read (JSON object), the new hash (JSON object)
local read, fresh = cjson.decode(ARGV[1]), cjson.decode(ARGV[2])
local now = redis.call('HGETALL', KEYS[1])
local n = 0
for _ in pairs(read) do n = n + 1 end
if #now ~= 2 * n then return 0 end
for i = 1, #now, 2 do
  if read[now[i]] ~= now[i + 1] then return 0 end
end
redis.call('DEL', KEYS[1])
local args = { 'HSET', KEYS[1] }
for k, v in pairs(fresh) do
  args[#args + 1] = k
  args[#args + 1] = v
end
redis.call(unpack(args))
return 1
