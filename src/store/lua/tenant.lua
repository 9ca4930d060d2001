-- Creates or updates a tenant's record; only the fields given are written, and the audit event
-- names each one that changed with its new value and, on an update, its old one (`previous<Field>`,
-- '' for unset, as site.lua does), so that an overwrite can be seen and undone. An update that
-- changes no field writes and audits nothing.
-- KEYS: info, events   ARGV: mode, now, maxlen, actor, field/value pairs...
-- mode: create (an existing tenant is refused: 'exists'), update (a missing one: 'unknown'), put.
local mode, now, maxlen, actor = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local exists = redis.call('HEXISTS', KEYS[1], 'createdAt') == 1
if mode == 'create' and exists then return 'exists' end
if mode == 'update' and not exists then return 'unknown' end
if mode ~= 'create' and mode ~= 'update' and mode ~= 'put' then
  return redis.error_reply('unknown mode ' .. mode)
end
local changed, fields = {}, {}
for i = 5, #ARGV, 2 do
  local f, v = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', KEYS[1], f) or ''
  if old ~= v then
    redis.call('HSET', KEYS[1], f, v)
    changed[#changed + 1] = f
    fields[#fields + 1] = f
    fields[#fields + 1] = v
    if exists then
      fields[#fields + 1] = 'previous' .. string.upper(string.sub(f, 1, 1)) .. string.sub(f, 2)
      fields[#fields + 1] = old
    end
  end
end
-- The same values again (a script re-run) write and audit nothing, and answer as a change would.
if exists and #changed == 0 then return 'updated' end
if not exists then redis.call('HSET', KEYS[1], 'createdAt', now) end
local event = { 'actor', actor, 'changed', table.concat(changed, ',') }
for i = 1, #fields do event[#event + 1] = fields[i] end
audit(KEYS[2], maxlen, now, exists and 'tenant_updated' or 'tenant_created', event)
if exists then return 'updated' end
return 'created'
