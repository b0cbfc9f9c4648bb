-- wrk: 95% reads of the article, 5% replies posted through the form.
local counter = 0
local base = os.getenv("FORM") or ""
request = function()
  counter = counter + 1
  if counter % 20 == 0 then
    local body = base .. "&comment=Mixed+reply+" .. counter
    return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  return wrk.format("GET", nil, nil, nil)
end
