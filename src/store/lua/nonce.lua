-- Consumes one use of a SIP digest nonce (see use_nonce in the prelude).
-- KEYS: nonce-count record   ARGV: nc (hex) or '', record ttl (ms)
return use_nonce(KEYS[1], ARGV[1], ARGV[2])
