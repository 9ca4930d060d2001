-- Site records (src/store/sites.ts) and their audit events, atomically.
-- KEYS: sites (HASH name -> JSON record), events
-- put:    ARGV: 'put', now, maxlen, actor, name, json, callerId, callerIdBy, route ('' none)
--         -> 'created' | 'updated'
-- delete: ARGV: 'delete', now, maxlen, actor, name      -> 1 | 0
local op, now, maxlen, actor, name = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local json, callerId, callerIdBy, route = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
if op == 'put' then
  local fields = { 'site', name, 'actor', actor, 'callerId', callerId, 'callerIdBy', callerIdBy, 'route', route }
  -- What the emergency fields were before: the trail shows a change even after the last put was trimmed.
  local old = redis.call('HGET', KEYS[1], name)
  if old then
    local ok, was = pcall(cjson.decode, old)
    if ok and type(was) == 'table' then
      local function text(v) if type(v) == 'string' then return v end return '' end
      local by = text(was.emergencyCallerIdBy)
      if by == '' then by = 'tenant' end
      for _, f in ipairs({ { 'previousCallerId', text(was.emergencyCallerId) }, { 'previousCallerIdBy', by },
          { 'previousRoute', text(was.emergencyRoute) } }) do
        fields[#fields + 1] = f[1]
        fields[#fields + 1] = f[2]
      end
    end
  end
  local created = redis.call('HSET', KEYS[1], name, json) == 1
  audit(KEYS[2], maxlen, now, 'site_put', fields)
  if created then return 'created' end
  return 'updated'
elseif op == 'delete' then
  local n = redis.call('HDEL', KEYS[1], name)
  if n == 1 then audit(KEYS[2], maxlen, now, 'site_deleted', { 'site', name, 'actor', actor }) end
  return n
end
return redis.error_reply('unknown op ' .. op)
