-- An admin's edit of a device's texts (site, model, language, accounts): the PAP, the
-- authentication state and the credential stay. A text is stored in pieces (`f`, `f:1`, ...; see
-- device-record.ts): its old pieces all go. Refused ('conflict') when a text is no longer the one
-- the caller read, so that the audit's previous values are what was replaced.
-- KEYS: device, events
-- ARGV: now, maxlen, actor, number of texts, then per text: field, expected text, number of
--       pieces, the pieces...; then the audit event's field/value pairs
local dev = KEYS[1]
if redis.call('HEXISTS', dev, 's') == 0 then return 'unknown' end
-- A text and how many pieces it has beyond the first.
local function text(name)
  local t, i = redis.call('HGET', dev, name) or '', 1
  while true do
    local p = redis.call('HGET', dev, name .. ':' .. i)
    if not p then return t, i - 1 end
    t = t .. p
    i = i + 1
  end
end
local at, edits = 5, {}
for _ = 1, tonumber(ARGV[4]) do
  local name, expected, count = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2])
  local current, extra = text(name)
  if current ~= expected then return 'conflict' end
  edits[#edits + 1] = { name = name, extra = extra, first = at + 3, count = count }
  at = at + 3 + count
end
for _, e in ipairs(edits) do
  redis.call('HDEL', dev, e.name)
  for i = 1, e.extra do redis.call('HDEL', dev, e.name .. ':' .. i) end
  for i = 0, e.count - 1 do
    local field = e.name
    if i > 0 then field = e.name .. ':' .. i end
    redis.call('HSET', dev, field, ARGV[e.first + i])
  end
end
-- A full file made from the texts as they were (and decided on their site) is not recorded now
-- (full.lua): its request is decided again on the edited device.
redis.call('HINCRBY', dev, 'g', 1)
local fields = { 'mac', device_mac(dev), 'actor', ARGV[3] }
for i = at, #ARGV do fields[#fields + 1] = ARGV[i] end
audit(KEYS[2], ARGV[2], tonumber(ARGV[1]), 'device_edited', fields)
return 'edited'
