-- wrk script: add_item on pre-created carts (bench/run.sh creates them).
-- Each wrk thread uses its own slice of the carts and rotates over them and
-- over the products with large stock, quantity 1, so no cart runs into its
-- line limit or the stock during a run.
local carts_file = os.getenv("BENCH_CARTS") or "carts.txt"
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "2")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local items = { "pot_ceramic", "bouquet_tulips", "bouquet_roses", "orchid_white", "bouquet_sunflowers" }
local mine = {}
local i = 0

function init(args)
  local all = {}
  for line in io.lines(carts_file) do all[#all + 1] = line end
  for k = 1, #all do
    if (k - 1) % thread_count == tid then mine[#mine + 1] = all[k] end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i + 1
  local cart = mine[(i % #mine) + 1]
  local item = items[(math.floor(i / #mine) % #items) + 1]
  local body = '{"cart_id":"' .. cart .. '","command":{"kind":"add_item","item_id":"' .. item .. '","quantity":1}}'
  return wrk.format(nil, "/api/v1/cart/commands", nil, body)
end

local non200 = 0
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
