-- Records a provisioning answer that changes no state (minimal configuration, refusal).
-- KEYS: device, events   ARGV: ip, now, outcome, reason, maxlen, file, further field/value pairs...
local now = tonumber(ARGV[2])
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return 0 end
redis.call('HSET', KEYS[1], 'lastProvAt', now, 'lastProvIp', ARGV[1], 'lastProvOutcome', ARGV[3])
local fields = { 'mac', mac, 'ip', ARGV[1], 'outcome', ARGV[3], 'reason', ARGV[4], 'file', ARGV[6] }
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
audit(KEYS[2], ARGV[5], now, 'provisioning', fields)
return 1
