-- One settings layer changed (src/store/settings.ts), audited with what changed, and the tenant's
-- settings version counted up, which the provisioning scripts read with the tenant: every process
-- renders a changed file at the phone's next fetch.
-- KEYS: settings, tenant, events, the device ('' unless the layer is a device's)
-- ARGV: now, maxlen, actor, scope ('tenant' | 'site' | 'device'), the site or MAC ('' for the
--       tenant), the layer's field suffix, the tenant's bound in bytes (SETTINGS_TENANT_MAX_BYTES),
--       the number n of parts, then n pairs of part (a family: its items' JSON; a common field of a
--       site: its value; '' clears it), then for the tenant pairs of common field and value ('' clears
--       it) written on the tenant record
-- Reply: the new settings version (the same when nothing changed) | error 'no_tenant' | error 'no_device' | error 'too_large <bytes after> <bound>'
local now, maxlen, actor, scope, name, suffix = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local maxBytes = tonumber(ARGV[7])
if redis.call('HEXISTS', KEYS[2], 'createdAt') == 0 then return redis.error_reply('no_tenant') end
if scope == 'device' and redis.call('EXISTS', KEYS[4]) == 0 then return redis.error_reply('no_device') end

local n = tonumber(ARGV[8])
-- The tenant's settings hash in bytes of field names and values, before and after the change:
-- counted here, in the script that writes, so that changes sent at once cannot each fit alone; a
-- change that grows nothing passes, so a bound lowered later never keeps a tenant from removing.
local before = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  before = before + #field + redis.call('HSTRLEN', KEYS[1], field)
end
local after = before
for i = 0, n - 1 do
  local field, json = ARGV[9 + 2 * i] .. '\31' .. suffix, ARGV[10 + 2 * i]
  local old = redis.call('HGET', KEYS[1], field)
  if old then after = after - #field - #old end
  if json ~= '' then after = after + #field + #json end
end
if after > maxBytes and after > before then
  return redis.error_reply('too_large ' .. after .. ' ' .. maxBytes)
end

-- An item list's names and values; a stored list that does not decode reads as empty.
local function items(json)
  local out = {}
  if not json or json == '' then return out end
  local ok, list = pcall(cjson.decode, json)
  if not ok or type(list) ~= 'table' then return out end
  for _, it in ipairs(list) do
    if type(it) == 'table' and type(it.name) == 'string' then out[it.name] = tostring(it.value) end
  end
  return out
end

local COMMON = { timeZone = true, ntpServer = true, phoneLanguage = true }
local changes = 0
for i = 0, n - 1 do
  local part, json = ARGV[9 + 2 * i], ARGV[10 + 2 * i]
  local field = part .. '\31' .. suffix
  local old = redis.call('HGET', KEYS[1], field)
  local fields = { 'scope', scope, 'name', name, 'part', part, 'actor', actor }
  if COMMON[part] then
    fields[#fields + 1] = 'before'
    fields[#fields + 1] = old or ''
    fields[#fields + 1] = 'after'
    fields[#fields + 1] = json
  else
    -- Names only: a value may be a secret (an admin password of the phone's web interface).
    local before, after, set, removed = items(old), items(json), {}, {}
    for k, v in pairs(after) do if before[k] ~= v then set[#set + 1] = k end end
    for k in pairs(before) do if after[k] == nil then removed[#removed + 1] = k end end
    table.sort(set)
    table.sort(removed)
    fields[#fields + 1] = 'set'
    fields[#fields + 1] = table.concat(set, ' ')
    fields[#fields + 1] = 'removed'
    fields[#fields + 1] = table.concat(removed, ' ')
  end
  if (old or '') ~= json then
    changes = changes + 1
    if json == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, json) end
    audit(KEYS[3], maxlen, now, 'settings_changed', fields)
  end
end
for i = 9 + 2 * n, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', KEYS[2], field) or ''
  if old ~= value then
    changes = changes + 1
    if value == '' then redis.call('HDEL', KEYS[2], field) else redis.call('HSET', KEYS[2], field, value) end
    audit(KEYS[3], maxlen, now, 'settings_changed',
      { 'scope', scope, 'name', name, 'part', field, 'actor', actor, 'before', old, 'after', value })
  end
end
-- The same layer again changes no file: the version stays, so no phone is sent a new one.
if changes == 0 then return tonumber(redis.call('HGET', KEYS[2], 'sv') or '0') end
return redis.call('HINCRBY', KEYS[2], 'sv', 1)
