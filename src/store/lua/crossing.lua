-- The all-tenants crossing of a source's guessing limit, alerted once (see first_crossing).
-- KEYS: the source's alert flag; ARGV: now, window (seconds)
return first_crossing(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000) and 1 or 0
