-- Records a provisioning answer that changes no state (minimal configuration, challenge, refusal):
-- see note_answer in prelude.lua; a User-Agent mismatch also on the device (`um`, `uo`).
-- KEYS: device, then the sinks (see sinks() in prelude.lua)
-- ARGV: ip, now, outcome, reason, file, the sinks' five, further field/value pairs...
local ip, now, outcome, reason, file = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local extra = {}
for i = 11, #ARGV do extra[#extra + 1] = ARGV[i] end
note_answer(KEYS[1], sinks(2, 6), now, ip, outcome, reason, file, extra)
-- A User-Agent naming another phone, kept for the operator (when, from where, and the model an
-- admin may accept: `seenModel`, absent for another MAC or vendor) until an admin accepts it.
if reason == 'user_agent_mismatch' then
  redis.call('HSET', KEYS[1], 'um', now .. ' ' .. ip)
  redis.call('HDEL', KEYS[1], 'uo')
  for i = 1, #extra - 1, 2 do
    if extra[i] == 'seenModel' then redis.call('HSET', KEYS[1], 'uo', extra[i + 1]) end
  end
end
return 1
