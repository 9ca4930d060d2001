-- Tenant admin tokens (src/store/tokens.ts) and their audit events, atomically.
-- KEYS: tokens (HASH sha256 -> JSON record), events
-- create: ARGV: 'create', now, maxlen, actor, sha, id, name, most tokens not revoked
-- revoke: ARGV: 'revoke', now, maxlen, actor, id
-- Reply (create): 'ok', 'name_taken' or 'too_many'
local op, now, maxlen, actor = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local sha, id, name, most = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]) -- create
local revokeId = ARGV[5] -- revoke
local all = redis.call('HGETALL', KEYS[1])
if op == 'create' then
  local live = 0
  for i = 2, #all, 2 do
    local rec = cjson.decode(all[i])
    -- Names stay unique for good, revoked or not, so an audit actor always names one token.
    if rec.name == name then return 'name_taken' end
    if not rec.revokedAt then live = live + 1 end
  end
  if live >= most then return 'too_many' end
  redis.call('HSET', KEYS[1], sha, cjson.encode({ id = id, name = name, createdAt = now }))
  audit(KEYS[2], maxlen, now, 'token_created', { 'token', name, 'actor', actor })
  return 'ok'
elseif op == 'revoke' then
  for i = 1, #all, 2 do
    local rec = cjson.decode(all[i + 1])
    if rec.id == revokeId then
      if rec.revokedAt then return 'revoked' end
      rec.revokedAt = now
      redis.call('HSET', KEYS[1], all[i], cjson.encode(rec))
      audit(KEYS[2], maxlen, now, 'token_revoked', { 'token', rec.name, 'actor', actor })
      return 'ok'
    end
  end
  return 'unknown'
end
return redis.error_reply('unknown op ' .. op)
