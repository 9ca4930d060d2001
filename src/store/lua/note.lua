-- Records a provisioning answer that changes no state (minimal configuration, challenge, refusal):
-- see note_answer in prelude.lua.
-- KEYS: device, then the sinks (see sinks() in prelude.lua)
-- ARGV: ip, now, outcome, reason, file, the sinks' five, further field/value pairs...
local ip, now, outcome, reason, file = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local extra = {}
for i = 11, #ARGV do extra[#extra + 1] = ARGV[i] end
note_answer(KEYS[1], sinks(2, 6), now, ip, outcome, reason, file, extra)
return 1
