-- The all-tenants crossing of a source's guessing limit, alerted once (see first_crossing).
-- KEYS: the source's alert flag; ARGV: now, window (seconds)
local now, windowSeconds = tonumber(ARGV[1]), tonumber(ARGV[2])
return first_crossing(KEYS[1], now, windowSeconds * 1000) and 1 or 0
