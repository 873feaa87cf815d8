-- wrk script: counts the app's X-Cache answer (hit, miss, revalidated, none) of every response,
-- printed at the end as "x-cache hit=<n> miss=<n> other=<n>" for bench/finale.py to read.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  hit, miss, other = 0, 0, 0
end

function response(status, headers, body)
  local state = headers["X-Cache"]
  if state == "hit" then
    hit = hit + 1
  elseif state == "miss" then
    miss = miss + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local hits, misses, others = 0, 0, 0
  for _, thread in ipairs(threads) do
    hits = hits + thread:get("hit")
    misses = misses + thread:get("miss")
    others = others + thread:get("other")
  end
  io.write(string.format("x-cache hit=%d miss=%d other=%d\n", hits, misses, others))
end
