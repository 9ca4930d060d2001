-- wrk script: POST /api/v1/authenticate with a wrong PAP, spread over the bench-pap devices
-- (bench/pap-devices.ts). BENCH_ADMIN_TOKEN and BENCH_PAP_DEVICES come from bench/provisioning.sh.
local token = os.getenv("BENCH_ADMIN_TOKEN")
local devices = tonumber(os.getenv("BENCH_PAP_DEVICES"))
wrk.method = "POST"
wrk.path = "/api/v1/authenticate"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
local n = 0
request = function()
  n = n + 1
  local mac = string.format("0015650%05x", n % devices)
  return wrk.format(nil, nil, nil, '{"mac":"' .. mac .. '","pap":"000000"}')
end
