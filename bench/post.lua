-- wrk: every request posts a reply through the real form, each with its own text (so the
-- duplicate check, were it on, would pass). FORM holds the form's fields but the text.
-- The ids of acknowledged replies (from each 303's Location) are written to ACKED at the end,
-- so the run can check that every acknowledged reply is stored.
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local counter = 0
local base = os.getenv("FORM") or ""
acked = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

request = function()
  counter = counter + 1
  local body = base .. "&comment=Reply+" .. id .. "-" .. counter .. "+from+the+benchmark"
  return wrk.format(nil, nil, nil, body)
end

response = function(status, headers, body)
  local location = headers["location"] or headers["Location"] or ""
  local reply = location:match("#comment%-(%d+)$")
  if status == 303 and reply then
    acked[#acked + 1] = reply
  else
    io.stderr:write("unexpected answer " .. status .. " " .. location .. "\n")
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("ACKED"), "w"))
  for _, thread in ipairs(threads) do
    for _, reply in ipairs(thread:get("acked")) do
      out:write(reply, "\n")
    end
  end
  out:close()
end
