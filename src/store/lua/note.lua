-- Records a provisioning answer that changes no state (minimal configuration, refusal).
-- KEYS: device, events   ARGV: ip, now, outcome, reason, maxlen, file, further field/value pairs...
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local extra = {}
for i = 7, #ARGV do extra[#extra + 1] = ARGV[i] end
provisioning_event(KEYS[1], KEYS[2], ARGV[5], tonumber(ARGV[2]), ARGV[1], ARGV[3], ARGV[4], ARGV[6], extra, ARGV[3])
return 1
