-- One emergency call in the audit trail of its device's tenant, within the device's share of
-- audited emergency calls (gated in prelude.lua: `emergency_calls_limited`, `_suppressed`): anyone
-- holding a device's minimal file may call 112 as it, and such calls must not fill the audit trail.
-- KEYS: the audit trail, the device's gate   ARGV: now, maxlen, limit, window (ms), mac, field/value pairs...
local fields = { 'mac', ARGV[5] }
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
gated({ stream = KEYS[1], maxlen = ARGV[2], gate = KEYS[2], limit = tonumber(ARGV[3]),
  window = tonumber(ARGV[4]), kind = 'emergency_calls', who = { 'mac', ARGV[5] } },
  tonumber(ARGV[1]), 'emergency_call', fields)
return 1
