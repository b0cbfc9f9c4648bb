-- wrk: 95% reads of the article, 5% replies posted through the form.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local counter = 0
local base = os.getenv("FORM") or ""
-- Replies go to another article (POST_PATH), so the page read keeps its 200 replies; each
-- reply still drops that article's pages and the listings from the page cache, as on a live
-- site.
local post_path = os.getenv("POST_PATH")
request = function()
  counter = counter + 1
  if counter % 20 == 0 then
    local body = base .. "&comment=Mixed+reply+" .. id .. "-" .. counter
    return wrk.format("POST", post_path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  return wrk.format("GET", nil, nil, nil)
end
