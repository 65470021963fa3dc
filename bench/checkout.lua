-- wrk script: one checkout per request, each on its own ready cart (created
-- by bench_setup ... ready), with a fresh idempotency key. Each wrk thread
-- takes its own slice of the carts and never reuses one.
local carts_file = os.getenv("BENCH_CARTS") or "ready.txt"
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "2")
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local mine = {}
local i = 0

function init(args)
  local k = 0
  for line in io.lines(carts_file) do
    if k % thread_count == tid then
      local id, version, total = line:match("(%S+) (%d+) (%d+)")
      mine[#mine + 1] = { id = id, version = version, total = total }
    end
    k = k + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i + 1
  local c = mine[i]
  if c == nil then c = mine[#mine] end  -- out of carts: the server answers 409
  local body = '{"tenant_id":"dev","merchant_id":"flower_shop","cart_id":"' .. c.id ..
    '","cart_version":' .. c.version .. ',"currency":"USD","location":{"country_code":"US"},' ..
    '"payment_intent":{"amount_minor":' .. c.total .. ',"token_or_reference":"success_token"},' ..
    '"idempotency_key":"bench-' .. c.id .. '"}'
  return wrk.format(nil, "/api/v1/checkout/execute", nil, body)
end
