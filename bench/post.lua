-- wrk: every request posts a reply through the real form (a different text each time, so the
-- duplicate check, were it on, would pass). Set TOKEN_BODY to the form's fields but the text.
local counter = 0
local base = os.getenv("FORM") or ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  counter = counter + 1
  local body = base .. "&comment=Reply+number+" .. counter .. "+from+the+benchmark"
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  if status ~= 303 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
