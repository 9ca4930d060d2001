-- One event of phone traffic that changes no state (a refused REGISTER); see traffic() in prelude.lua.
-- KEYS: the sinks (see sinks() in prelude.lua)   ARGV: now, type, the sinks' five, field/value pairs...
local now, eventType = tonumber(ARGV[1]), ARGV[2]
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
traffic(sinks(1, 3), now, eventType, fields)
return 1
