-- Consumes one use of a SIP digest nonce (see use_nonce in the prelude).
-- KEYS: nonce-count record   ARGV: nc (hex) or '', record ttl (ms)
local nc, recordTtl = ARGV[1], ARGV[2]
return use_nonce(KEYS[1], nc, recordTtl)
