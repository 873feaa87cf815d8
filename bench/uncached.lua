-- wrk script: every request asks for a URL nobody asked for before (an extra query parameter
-- the app ignores), so the anonymous page cache never answers and each page is rendered.
-- The token passed after `--` keeps the warm-up's URLs apart from the measurement's.
local token, counter = "0", 0

function init(args)
  token = args[1] or tostring(math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  local separator = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. separator .. "nocache=" .. token .. "-" .. counter)
end
